import { preferColumns } from "./facts/prefer.js";
import type { Queryable } from "./pool.js";

/**
 * Consent written outside the event stream: a suppression the worker learns from the channel
 * itself (an SMTP server refusing the address). It merges like a customer.consent.updated event
 * (the later (time, id) wins), so a later consent event from the customer still counts.
 */
export function createConsentRepo(db: Queryable) {
  return {
    async suppress({ customerId, channel, source, at, id }: { customerId: string; channel: "email" | "webhook"; source: "hard-bounce" | "complaint"; at: Date; id: string }, tx: Queryable = db): Promise<void> {
      await tx.query(
        `INSERT INTO customer_consents (customer_id, channel, status, source, event_time, event_id)
         SELECT customer_id, $2, 'suppressed', $3, $4, $5 FROM customers WHERE customer_id = $1
         ON CONFLICT (customer_id, channel) DO UPDATE SET
           ${preferColumns({ table: "customer_consents", time: "event_time", id: "event_id", rule: "later", columns: ["status", "source"] })},
           updated_at = now()`,
        [customerId, channel, source, at, id],
      );
    },
  };
}
export type ConsentRepo = ReturnType<typeof createConsentRepo>;
