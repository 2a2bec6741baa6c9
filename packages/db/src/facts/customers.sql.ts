import { batchEvents } from "./batch-events.sql.js";
import { preferColumns } from "./prefer.js";

/** The profile columns a customer.registered event sets. */
export const PROFILE_COLUMNS = ["email", "name", "acquisition_channel", "acquisition_cost", "referred_by", "birthday", "timezone", "locale"];

/**
 * How a customer row takes in another version of itself (`incoming`: EXCLUDED in an upsert, the
 * merged customer's row in a merge): the later registration's profile, whole, and the later
 * cancellation, whatever order they came in.
 */
export const mergeProfileColumns = (incoming: string) => `
    ${preferColumns({ table: "customers", time: "profile_event_time", id: "profile_event_id", rule: "later", columns: PROFILE_COLUMNS, incoming })},
    ${preferColumns({ table: "customers", time: "cancelled_at", id: "cancel_event_id", rule: "later", columns: ["cancel_reason"], incoming })}`;

/** $1: the batch's new events (`batchEventsJson`). Upserts a row per subject: first/last seen, profile, cancellation. */
export const UPSERT_CUSTOMERS = `
WITH b AS MATERIALIZED (SELECT * FROM ${batchEvents("$1")}
), ev AS (
  SELECT subject, min(event_time) AS first_seen, max(event_time) AS last_event,
         min(event_time) FILTER (WHERE type = 'customer.registered') AS registered_at
    FROM b GROUP BY subject
), reg AS (
  SELECT DISTINCT ON (subject) subject, event_time, event_id, data
    FROM b WHERE type = 'customer.registered'
   ORDER BY subject, event_time DESC, event_id DESC
), canc AS (
  SELECT DISTINCT ON (subject) subject, event_time, event_id, data->>'reason' AS reason
    FROM b WHERE type = 'customer.cancelled'
   ORDER BY subject, event_time DESC, event_id DESC
)
INSERT INTO customers (customer_id, first_seen_at, last_event_at, registered_at,
                       profile_event_time, profile_event_id, email, name, acquisition_channel,
                       acquisition_cost, referred_by, birthday, timezone, locale, cancelled_at, cancel_event_id, cancel_reason)
SELECT ev.subject, ev.first_seen, ev.last_event, ev.registered_at,
       reg.event_time, reg.event_id, reg.data->>'email', reg.data->>'name', reg.data->>'acquisitionChannel',
       (reg.data->>'acquisitionCost')::numeric, reg.data->>'referredBy', (reg.data->>'birthday')::date, reg.data->>'timezone', reg.data->>'locale',
       canc.event_time, canc.event_id, canc.reason
  FROM ev LEFT JOIN reg USING (subject) LEFT JOIN canc USING (subject)
 -- A fixed lock order: two partitions' transactions touching one customer (its events on two
 -- topics) then wait for each other instead of deadlocking.
 ORDER BY ev.subject
ON CONFLICT (customer_id) DO UPDATE SET
    first_seen_at = LEAST(customers.first_seen_at, EXCLUDED.first_seen_at),
    last_event_at = GREATEST(customers.last_event_at, EXCLUDED.last_event_at),
    registered_at = LEAST(customers.registered_at, EXCLUDED.registered_at),
    ${mergeProfileColumns("EXCLUDED")},
    -- Any new event is news for a CRM's incremental sync (a profile change included).
    updated_at = now()
`;
