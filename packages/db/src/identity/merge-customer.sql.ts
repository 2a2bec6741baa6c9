import { mergeProfileColumns } from "../facts/customers.sql.js";
import { KEEP_LATER_CONSENT } from "../facts/consents.sql.js";
import { KEEP_EARLIEST_ORDER } from "../facts/purchases.sql.js";
import { MERGE_TICKET_ROWS } from "../facts/tickets.sql.js";

// Moving everything recorded under one customer id ($1) to another ($2), one statement per table.
// Rows that meet a row of the survivor (one order or ticket recorded under both ids, a consent on
// the same channel) are folded by the rules ingest folds versions by, so a merge gives the rows the
// same events would have given under one id from the start. The facts summed from these rows
// (purchases, revenue, tickets, latest scores) are recomputed when the survivor is re-evaluated.

const TICKET_COLUMNS = [
  "ticket_id", "opened_at", "opened_event_id", "channel", "priority", "first_response_at", "first_response_event_id",
  "first_response_by", "responses", "resolved_at", "resolved_event_id", "contacts", "reopened_count", "last_reopened_at",
].join(", ");
const ORDER_COLUMNS = "order_id, event_id, event_time, amount, currency, amount_base, channel, referral_code";

/** In order: the survivor's row first (consents refer to it), the merged row last. */
export const MERGE_CUSTOMER_STATEMENTS: readonly string[] = [
  // A survivor without a record of its own continues the merged customer's stage.
  `INSERT INTO customers (customer_id, first_seen_at, last_event_at, stage, stage_reason, stage_since)
   SELECT $2, first_seen_at, last_event_at, stage, stage_reason, stage_since FROM customers WHERE customer_id = $1
   ON CONFLICT (customer_id) DO NOTHING`,
  `UPDATE customers SET
       first_seen_at = LEAST(customers.first_seen_at, m.first_seen_at),
       last_event_at = GREATEST(customers.last_event_at, m.last_event_at),
       registered_at = LEAST(customers.registered_at, m.registered_at),
       ${mergeProfileColumns("m")},
       updated_at = now()
     FROM customers m WHERE customers.customer_id = $2 AND m.customer_id = $1`,
  `INSERT INTO customer_consents (customer_id, channel, status, source, event_time, event_id)
   SELECT $2, channel, status, source, event_time, event_id FROM customer_consents WHERE customer_id = $1
   ON CONFLICT (customer_id, channel) DO UPDATE SET ${KEEP_LATER_CONSENT}`,
  "DELETE FROM customer_consents WHERE customer_id = $1",
  `INSERT INTO orders (customer_id, ${ORDER_COLUMNS}) SELECT $2, ${ORDER_COLUMNS} FROM orders WHERE customer_id = $1
   ON CONFLICT (customer_id, order_id) DO UPDATE SET ${KEEP_EARLIEST_ORDER}`,
  "DELETE FROM orders WHERE customer_id = $1",
  `INSERT INTO tickets (customer_id, ${TICKET_COLUMNS}) SELECT $2, ${TICKET_COLUMNS} FROM tickets WHERE customer_id = $1
   ON CONFLICT (customer_id, ticket_id) DO UPDATE SET ${MERGE_TICKET_ROWS}`,
  "DELETE FROM tickets WHERE customer_id = $1",
  // One row per event: they only change hands.
  "UPDATE refunds SET customer_id = $2 WHERE customer_id = $1",
  "UPDATE survey_responses SET customer_id = $2 WHERE customer_id = $1",
  // The stage history and the follow-ups' outcomes and cap claims are the survivor's now.
  "UPDATE stage_transitions SET customer_id = $2 WHERE customer_id = $1",
  "UPDATE job_outcomes SET customer_id = $2 WHERE customer_id = $1",
  "UPDATE marketing_cap_claims SET customer_id = $2 WHERE customer_id = $1",
  `INSERT INTO follow_up_claims (customer_id, playbook, trigger, job_id, claimed_at)
   SELECT $2, playbook, trigger, job_id, claimed_at FROM follow_up_claims WHERE customer_id = $1
   ON CONFLICT DO NOTHING`,
  "DELETE FROM follow_up_claims WHERE customer_id = $1",
  "DELETE FROM customers WHERE customer_id = $1",
];
