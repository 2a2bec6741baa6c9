import { batchEvents } from "./batch-events.sql.js";

/** Of two versions of one order (a re-sent order, or one recorded under two merged ids), the earliest (time, id) stays, whole. */
export const KEEP_EARLIEST_ORDER = `
    event_id = EXCLUDED.event_id, event_time = EXCLUDED.event_time, amount = EXCLUDED.amount,
    currency = EXCLUDED.currency, amount_base = EXCLUDED.amount_base,
    channel = EXCLUDED.channel, referral_code = EXCLUDED.referral_code
  WHERE (EXCLUDED.event_time, EXCLUDED.event_id) < (orders.event_time, orders.event_id)`;

/**
 * $1: the batch's new purchases (`batchEventsJson`); $2: rates to the base currency as JSON, e.g. {"USD":"1","EUR":"1.08"}.
 * One row per (customer, order): of several versions the earliest (time, id) is kept.
 */
export const UPSERT_ORDERS = `
INSERT INTO orders (customer_id, order_id, event_id, event_time, amount, currency, amount_base, channel, referral_code)
SELECT DISTINCT ON (subject, data->>'orderId')
       subject, data->>'orderId', event_id, event_time, (data->>'amount')::numeric, data->>'currency',
       round((data->>'amount')::numeric * ($2::jsonb->>(data->>'currency'))::numeric, 4),
       data->>'channel', data->>'referralCode'
  FROM ${batchEvents("$1")}
 ORDER BY subject, data->>'orderId', event_time, event_id
ON CONFLICT (customer_id, order_id) DO UPDATE SET ${KEEP_EARLIEST_ORDER}
`;

/** $1: the batch's new refunds; $2: rates. Every refund event is its own row. */
export const INSERT_REFUNDS = `
INSERT INTO refunds (event_id, customer_id, order_id, event_time, amount, currency, amount_base)
SELECT event_id, subject, data->>'orderId', event_time, (data->>'amount')::numeric, data->>'currency',
       round((data->>'amount')::numeric * ($2::jsonb->>(data->>'currency'))::numeric, 4)
  FROM ${batchEvents("$1")}
ON CONFLICT (event_id) DO NOTHING
`;
