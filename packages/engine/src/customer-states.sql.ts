// The engine's reads and writes of customers, set-based: one statement for a whole batch.

/**
 * $1 customer ids; $2 NPS detractor max; $3 low CSAT max; $4 high CES min. Each customer's facts
 * with its latest negative signals and unanswered open tickets. Rows come back locked: the ingest
 * transaction holds them already, and the sweep must not race a batch evaluating the same customer.
 */
export const LOAD_CUSTOMER_STATES = `
SELECT c.customer_id, c.first_seen_at, c.registered_at, c.purchase_count, c.first_purchase_at, c.last_purchase_at,
       c.cancelled_at, c.purchase_days, c.repeat_day_spend_mean::float8 AS zbar, c.revenue::float8 AS revenue,
       c.refunded::float8 AS refunded, c.acquisition_cost::float8 AS acquisition_cost, c.latest_nps, c.latest_csat,
       c.latest_ces, c.open_tickets, c.stage, c.stage_since,
       s.detractor_at, s.low_csat_at, s.high_ces_at, t.reopened_at, coalesce(t.unanswered, '{}') AS unanswered
  FROM customers c
  LEFT JOIN LATERAL (
    SELECT max(event_time) FILTER (WHERE kind = 'nps' AND score <= $2) AS detractor_at,
           max(event_time) FILTER (WHERE kind = 'csat' AND score <= $3) AS low_csat_at,
           max(event_time) FILTER (WHERE kind = 'ces' AND score >= $4) AS high_ces_at
      FROM survey_responses sr WHERE sr.customer_id = c.customer_id) s ON true
  LEFT JOIN LATERAL (
    SELECT max(last_reopened_at) AS reopened_at,
           array_agg(opened_at ORDER BY opened_at) FILTER (
             WHERE opened_at IS NOT NULL AND first_response_at IS NULL AND (resolved_at IS NULL OR last_reopened_at > resolved_at)
           ) AS unanswered
      FROM tickets tk WHERE tk.customer_id = c.customer_id) t ON true
 WHERE c.customer_id = ANY($1::text[])
 ORDER BY c.customer_id
   FOR UPDATE OF c
`;

/** $1: JSON array of evaluations. Writes stage, predictions, CLV and health in one statement. */
export const SAVE_EVALUATIONS = `
UPDATE customers c SET
       stage = e.stage,
       stage_reason = coalesce(e.transition_reason, c.stage_reason, e.reason),
       stage_since = coalesce(e.transition_at, c.stage_since, e.since),
       stage_review_at = e.review_at,
       p_alive = e.p_alive, p_alive_below_at = e.p_alive_below_at, expected_purchases = e.expected_purchases,
       expected_spend = e.expected_spend, predicted_clv = e.predicted_clv, clv_model_id = e.model_id,
       simple_clv = e.simple_clv, profit_clv = e.profit_clv, clv_cac_ratio = e.clv_cac_ratio,
       health_score = e.health_score, health_components = e.health_components, evaluated_at = e.evaluated_at,
       -- CRMs page by updated_at: a stage change is news, a refreshed prediction is not.
       updated_at = CASE WHEN e.transition_at IS NOT NULL THEN now() ELSE c.updated_at END
  FROM jsonb_to_recordset($1::jsonb) AS e(
       customer_id text, stage text, reason text, since timestamptz, transition_reason text, transition_at timestamptz,
       review_at timestamptz, p_alive float8, p_alive_below_at timestamptz, expected_purchases float8,
       expected_spend numeric, predicted_clv numeric, model_id bigint, simple_clv numeric, profit_clv numeric,
       clv_cac_ratio float8, health_score smallint, health_components jsonb, evaluated_at timestamptz)
 WHERE c.customer_id = e.customer_id
`;

/** $1: JSON array of transitions. Returns them with their ids, for the outbox. */
export const INSERT_TRANSITIONS = `
INSERT INTO stage_transitions (customer_id, from_stage, to_stage, reason, event_time, clv_snapshot)
SELECT customer_id, from_stage, to_stage, reason, event_time, clv_snapshot
  FROM jsonb_to_recordset($1::jsonb) AS t(customer_id text, from_stage text, to_stage text, reason text, event_time timestamptz, clv_snapshot jsonb)
RETURNING id, customer_id, from_stage, to_stage, reason, event_time, clv_snapshot
`;
