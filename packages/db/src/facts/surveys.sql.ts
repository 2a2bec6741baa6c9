import { batchEvents } from "./batch-events.sql.js";

/** $1: the batch's new survey responses (`batchEventsJson`). */
export const INSERT_SURVEY_RESPONSES = `
INSERT INTO survey_responses (event_id, customer_id, kind, score, event_time, survey_id, order_id, ticket_id, comment)
SELECT event_id, subject, data->>'kind', (data->>'score')::smallint, event_time,
       data->>'surveyId', data->>'orderId', data->>'ticketId', data->>'comment'
  FROM ${batchEvents("$1")}
ON CONFLICT (event_id) DO NOTHING
`;
