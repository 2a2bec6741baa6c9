import { batchEvents } from "./batch-events.sql.js";
import { preferColumns } from "./prefer.js";

/** Of two consents on one channel, the later event's (time, then id) stays. */
export const KEEP_LATER_CONSENT = `
    ${preferColumns({ table: "customer_consents", time: "event_time", id: "event_id", rule: "later", columns: ["status", "source"] })},
    updated_at = now()`;

/**
 * $1: the batch's new customer.consent.updated events (`batchEventsJson`). One row per customer
 * and channel; the later event (time, then id) wins, so any order of arrival gives the same row.
 * The customers rows exist: UPSERT_CUSTOMERS ran first in the same transaction.
 */
export const UPSERT_CONSENTS = `
WITH latest AS (
  SELECT DISTINCT ON (subject, data->>'channel') subject, data->>'channel' AS channel, data->>'status' AS status,
         data->>'source' AS source, event_time, event_id
    FROM ${batchEvents("$1")}
   ORDER BY subject, data->>'channel', event_time DESC, event_id DESC
)
INSERT INTO customer_consents (customer_id, channel, status, source, event_time, event_id)
SELECT subject, channel, status, source, event_time, event_id FROM latest
 ORDER BY subject, channel
ON CONFLICT (customer_id, channel) DO UPDATE SET ${KEEP_LATER_CONSENT}
`;
