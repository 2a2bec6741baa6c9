import { batchEvents } from "./batch-events.sql.js";
import { preferColumns } from "./prefer.js";

/**
 * How a stored ticket row takes in another row of the same ticket (EXCLUDED): earliest opening and
 * first response, latest resolution and reopening, counts added. Folding rows this way in any
 * order gives the same row, so a batch's events and a merged customer's tickets use it alike.
 */
export const MERGE_TICKET_ROWS = `
    ${preferColumns({ table: "tickets", time: "opened_at", id: "opened_event_id", rule: "earlier", columns: ["channel", "priority"] })},
    ${preferColumns({ table: "tickets", time: "first_response_at", id: "first_response_event_id", rule: "earlier", columns: ["first_response_by"] })},
    ${preferColumns({ table: "tickets", time: "resolved_at", id: "resolved_event_id", rule: "later", columns: ["contacts"] })},
    responses = tickets.responses + EXCLUDED.responses,
    reopened_count = tickets.reopened_count + EXCLUDED.reopened_count,
    last_reopened_at = GREATEST(tickets.last_reopened_at, EXCLUDED.last_reopened_at)`;

/**
 * $1: the batch's new ticket events (`batchEventsJson`). Folds each ticket's events of the batch into one row, then merges it
 * with the stored row: earliest opening and first response, latest resolution and reopening,
 * counts added (each event is applied once: only new event ids reach this statement).
 */
export const UPSERT_TICKETS = `
WITH t AS (
  SELECT subject, data->>'ticketId' AS ticket_id, type, event_time, event_id, data
    FROM ${batchEvents("$1")}
), opened AS (
  SELECT DISTINCT ON (subject, ticket_id) subject, ticket_id, event_time, event_id, data->>'channel' AS channel, data->>'priority' AS priority
    FROM t WHERE type = 'ticket.opened' ORDER BY subject, ticket_id, event_time, event_id
), responded AS (
  SELECT DISTINCT ON (subject, ticket_id) subject, ticket_id, event_time, event_id, data->>'by' AS by
    FROM t WHERE type = 'ticket.responded' ORDER BY subject, ticket_id, event_time, event_id
), resolved AS (
  SELECT DISTINCT ON (subject, ticket_id) subject, ticket_id, event_time, event_id, (data->>'contacts')::int AS contacts
    FROM t WHERE type = 'ticket.resolved' ORDER BY subject, ticket_id, event_time DESC, event_id DESC
), counts AS (
  SELECT subject, ticket_id,
         count(*) FILTER (WHERE type = 'ticket.responded')::int AS responses,
         count(*) FILTER (WHERE type = 'ticket.reopened')::int AS reopened,
         max(event_time) FILTER (WHERE type = 'ticket.reopened') AS last_reopened
    FROM t GROUP BY subject, ticket_id
)
INSERT INTO tickets (customer_id, ticket_id, opened_at, opened_event_id, channel, priority,
                     first_response_at, first_response_event_id, first_response_by, responses,
                     resolved_at, resolved_event_id, contacts, reopened_count, last_reopened_at)
SELECT c.subject, c.ticket_id, o.event_time, o.event_id, o.channel, o.priority,
       r.event_time, r.event_id, r.by, c.responses,
       s.event_time, s.event_id, s.contacts, c.reopened, c.last_reopened
  FROM counts c
  LEFT JOIN opened o USING (subject, ticket_id)
  LEFT JOIN responded r USING (subject, ticket_id)
  LEFT JOIN resolved s USING (subject, ticket_id)
ON CONFLICT (customer_id, ticket_id) DO UPDATE SET ${MERGE_TICKET_ROWS}
`;

/** A ticket is open until resolved, and again after a reopening later than its resolution. */
export const TICKET_IS_OPEN = "(resolved_at IS NULL OR last_reopened_at > resolved_at)";
