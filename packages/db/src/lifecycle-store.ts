import { batchEventsJson, type BatchEvent } from "./facts/batch-events.sql.js";
import { UPSERT_CONSENTS } from "./facts/consents.sql.js";
import { UPSERT_CUSTOMERS } from "./facts/customers.sql.js";
import { INSERT_REFUNDS, UPSERT_ORDERS } from "./facts/purchases.sql.js";
import { INSERT_SURVEY_RESPONSES } from "./facts/surveys.sql.js";
import { UPSERT_TICKETS } from "./facts/tickets.sql.js";
import type { Queryable } from "./pool.js";

export interface ApplyResult {
  /** Customers the events are about: their facts must be recomputed and re-evaluated. */
  touched: string[];
}

/**
 * Records newly recorded events (already in `inbox_events`) in the per-aspect tables (customers,
 * orders, refunds, tickets, survey answers) with one set-based statement per aspect present in
 * the batch, whatever its size. The per-customer sums derived from those rows are recomputed
 * where the engine loads the customers (LOAD_CUSTOMER_STATES), so each customer row is written
 * once here and once with its evaluation. Run it inside the transaction that recorded the events,
 * and pass only the ones that recording reported as new: that is what makes a redelivered event
 * change nothing.
 */
export function createLifecycleStore(db: Queryable) {
  return {
    async applyNewEvents({ events, rates }: { events: readonly BatchEvent[]; rates: Record<string, string> }, tx: Queryable = db): Promise<ApplyResult> {
      if (events.length === 0) return { touched: [] };
      const ratesJson = JSON.stringify(rates);
      const ofType = (match: (type: string) => boolean) => events.filter((e) => match(e.type));

      // Only the profile and cancellation columns read an event's data here.
      await tx.query(UPSERT_CUSTOMERS, [batchEventsJson(events, (e) => e.type === "customer.registered" || e.type === "customer.cancelled")]);
      const consents = ofType((t) => t === "customer.consent.updated");
      if (consents.length) await tx.query(UPSERT_CONSENTS, [batchEventsJson(consents)]);
      const purchases = ofType((t) => t === "purchase.completed");
      if (purchases.length) await tx.query(UPSERT_ORDERS, [batchEventsJson(purchases), ratesJson]);
      const refunds = ofType((t) => t === "purchase.refunded");
      if (refunds.length) await tx.query(INSERT_REFUNDS, [batchEventsJson(refunds), ratesJson]);
      const tickets = ofType((t) => t.startsWith("ticket."));
      if (tickets.length) await tx.query(UPSERT_TICKETS, [batchEventsJson(tickets)]);
      const surveys = ofType((t) => t === "survey.responded");
      if (surveys.length) await tx.query(INSERT_SURVEY_RESPONSES, [batchEventsJson(surveys)]);
      return { touched: [...new Set(events.map((e) => e.subject))] };
    },
  };
}
export type LifecycleStore = ReturnType<typeof createLifecycleStore>;
