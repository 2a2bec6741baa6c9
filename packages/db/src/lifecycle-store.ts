import { UPSERT_CUSTOMERS } from "./facts/customers.sql.js";
import { INSERT_REFUNDS, UPSERT_ORDERS } from "./facts/purchases.sql.js";
import { FIRST_PURCHASES_AMONG, RECOMPUTE_PURCHASES, RECOMPUTE_REFUNDS, RECOMPUTE_SURVEYS, RECOMPUTE_TICKETS } from "./facts/recompute.sql.js";
import { INSERT_SURVEY_RESPONSES } from "./facts/surveys.sql.js";
import { UPSERT_TICKETS } from "./facts/tickets.sql.js";
import type { Queryable } from "./pool.js";

export interface ApplyResult {
  /** Customers whose facts were recomputed. */
  touched: string[];
  /** Customers whose first purchase is among the applied events, with that purchase's event id. */
  firstPurchases: { customerId: string; eventId: string; time: Date }[];
}

/**
 * Applies newly recorded events (already in `inbox_events`) to the per-customer state with at
 * most a dozen set-based statements, whatever the batch size (aspects without events are skipped). Run it inside the transaction
 * that recorded them, and pass only the ids that recording reported as new: that is what makes
 * a redelivered event change nothing.
 */
export function createLifecycleStore(db: Queryable) {
  return {
    async applyNewEvents(
      { events, rates }: { events: readonly { id: string; type: string; subject: string }[]; rates: Record<string, string> },
      tx: Queryable = db,
    ): Promise<ApplyResult> {
      if (events.length === 0) return { touched: [], firstPurchases: [] };
      const eventIds = events.map((e) => e.id);
      const ratesJson = JSON.stringify(rates);
      const subjectsOf = (match: (type: string) => boolean) => [...new Set(events.filter((e) => match(e.type)).map((e) => e.subject))];
      const purchasers = subjectsOf((t) => t === "purchase.completed");

      await tx.query(UPSERT_CUSTOMERS, [eventIds]);
      if (purchasers.length) {
        await tx.query(UPSERT_ORDERS, [eventIds, ratesJson]);
        await tx.query(RECOMPUTE_PURCHASES, [purchasers]);
      }
      const refunders = subjectsOf((t) => t === "purchase.refunded");
      if (refunders.length) {
        await tx.query(INSERT_REFUNDS, [eventIds, ratesJson]);
        await tx.query(RECOMPUTE_REFUNDS, [refunders]);
      }
      const ticketHolders = subjectsOf((t) => t.startsWith("ticket."));
      if (ticketHolders.length) {
        await tx.query(UPSERT_TICKETS, [eventIds]);
        await tx.query(RECOMPUTE_TICKETS, [ticketHolders]);
      }
      const respondents = subjectsOf((t) => t === "survey.responded");
      if (respondents.length) {
        await tx.query(INSERT_SURVEY_RESPONSES, [eventIds]);
        await tx.query(RECOMPUTE_SURVEYS, [respondents]);
      }

      const newIds = new Set(eventIds);
      const first = purchasers.length ? (await tx.query<{ customer_id: string; event_id: string; event_time: Date }>(FIRST_PURCHASES_AMONG, [eventIds])).rows : [];
      const firstPurchases = first.filter((r) => newIds.has(r.event_id)).map((r) => ({ customerId: r.customer_id, eventId: r.event_id, time: r.event_time }));
      return { touched: subjectsOf(() => true), firstPurchases };
    },
  };
}
export type LifecycleStore = ReturnType<typeof createLifecycleStore>;
