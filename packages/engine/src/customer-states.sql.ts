import { TICKET_IS_OPEN } from "@lifecycle/db";

// The engine's reads and writes of customers, set-based: one statement for a whole batch.

// The facts derived from a customer's own rows (orders, refunds, tickets, survey answers) are
// computed where the customer is loaded and written back with its evaluation: one write of the
// customer row per batch instead of one per aspect. Each depends only on the stored rows, never
// on how the events arrived, so a sweep or a refit recomputes the same values.
//
// Purchases are summarised the way the BG/NBD and Gamma-Gamma models count them: orders on the
// same UTC day merge into one transaction (notes/clv-models.md, pitfall 2). z̄ is the mean of the
// repeat days' sums: everything after the first purchase day.
const PURCHASES = `
  LEFT JOIN LATERAL (
    SELECT sum(n)::int AS n, min(first_at) AS first_at, max(last_at) AS last_at, sum(amount) AS revenue, count(*)::int AS days,
           round(coalesce((sum(amount) - (array_agg(amount ORDER BY day))[1]) / nullif(count(*) - 1, 0), 0), 4) AS zbar,
           (array_agg(first_id ORDER BY day))[1] AS first_order_event_id
      FROM (SELECT (event_time AT TIME ZONE 'UTC')::date AS day, count(*) AS n, min(event_time) AS first_at,
                   max(event_time) AS last_at, sum(amount_base) AS amount,
                   (array_agg(event_id ORDER BY event_time, event_id))[1] AS first_id
              FROM orders o WHERE o.customer_id = c.customer_id GROUP BY day) d) p ON true
  LEFT JOIN LATERAL (SELECT sum(amount_base) AS refunded FROM refunds r WHERE r.customer_id = c.customer_id) r ON true`;

const latest = (kind: string) => `
           (array_agg(score ORDER BY event_time DESC, event_id DESC) FILTER (WHERE kind = '${kind}'))[1] AS latest_${kind},
           (max(event_time) FILTER (WHERE kind = '${kind}'))::text AS latest_${kind}_at,`;

/**
 * $1 customer ids; $2 NPS detractor max; $3 low CSAT max; $4 high CES min. Each customer's facts
 * (recomputed from its rows) with its latest negative signals, unanswered open tickets and first
 * order. Rows come back locked: the ingest transaction holds them already, and the sweep must not
 * race a batch evaluating the same customer.
 */
export const LOAD_CUSTOMER_STATES = `
SELECT c.customer_id, c.first_seen_at, c.registered_at, c.cancelled_at, c.acquisition_cost::float8 AS acquisition_cost,
       c.stage, c.stage_since,
       coalesce(p.n, 0) AS purchase_count, p.first_at AS first_purchase_at, p.last_at AS last_purchase_at,
       -- Timestamps written back go as text: a JS Date would cut an event's microseconds.
       p.first_at::text AS first_purchase_at_text, p.last_at::text AS last_purchase_at_text,
       coalesce(p.days, 0) AS purchase_days, coalesce(p.zbar, 0) AS zbar, coalesce(p.revenue, 0) AS revenue,
       coalesce(r.refunded, 0) AS refunded, p.first_order_event_id,
       s.latest_nps, s.latest_nps_at, s.latest_csat, s.latest_csat_at, s.latest_ces, s.latest_ces_at,
       s.detractor_at, s.low_csat_at, s.high_ces_at,
       coalesce(t.total, 0) AS tickets_total, coalesce(t.open, 0) AS open_tickets, t.reopened_at, coalesce(t.unanswered, '{}') AS unanswered
  FROM customers c ${PURCHASES}
  LEFT JOIN LATERAL (
    SELECT ${latest("nps")} ${latest("csat")} ${latest("ces")}
           max(event_time) FILTER (WHERE kind = 'nps' AND score <= $2) AS detractor_at,
           max(event_time) FILTER (WHERE kind = 'csat' AND score <= $3) AS low_csat_at,
           max(event_time) FILTER (WHERE kind = 'ces' AND score >= $4) AS high_ces_at
      FROM survey_responses sr WHERE sr.customer_id = c.customer_id) s ON true
  LEFT JOIN LATERAL (
    SELECT count(*)::int AS total, (count(*) FILTER (WHERE ${TICKET_IS_OPEN}))::int AS open,
           max(last_reopened_at) AS reopened_at,
           array_agg(opened_at ORDER BY opened_at) FILTER (
             WHERE opened_at IS NOT NULL AND first_response_at IS NULL AND ${TICKET_IS_OPEN}
           ) AS unanswered
      FROM tickets tk WHERE tk.customer_id = c.customer_id) t ON true
 WHERE c.customer_id = ANY($1::text[])
 ORDER BY c.customer_id
   FOR UPDATE OF c
`;

/**
 * $1: JSON array of evaluations with the facts they were made from. Writes facts, stage,
 * predictions, CLV and health in one statement.
 */
export const SAVE_EVALUATIONS = `
UPDATE customers c SET
       purchase_count = e.purchase_count, first_purchase_at = e.first_purchase_at, last_purchase_at = e.last_purchase_at,
       revenue = e.revenue, purchase_days = e.purchase_days, repeat_day_spend_mean = e.zbar, refunded = e.refunded,
       tickets_total = e.tickets_total, open_tickets = e.open_tickets,
       latest_nps = e.latest_nps, latest_nps_at = e.latest_nps_at, latest_csat = e.latest_csat,
       latest_csat_at = e.latest_csat_at, latest_ces = e.latest_ces, latest_ces_at = e.latest_ces_at,
       stage = e.stage,
       stage_reason = coalesce(e.transition_reason, c.stage_reason, e.reason),
       stage_since = coalesce(e.transition_at, c.stage_since, e.since),
       stage_review_at = e.review_at,
       p_alive = e.p_alive, p_alive_below_at = e.p_alive_below_at, expected_purchases = e.expected_purchases,
       expected_spend = e.expected_spend, predicted_clv = e.predicted_clv, clv_model_id = e.model_id,
       historical_clv = e.historical_clv, simple_clv = e.simple_clv, profit_clv = e.profit_clv, clv_cac_ratio = e.clv_cac_ratio,
       clv_lifespan_years = e.lifespan_years, clv_lifespan_source = e.lifespan_source,
       health_score = e.health_score, health_components = e.health_components, evaluated_at = e.evaluated_at,
       -- CRMs page by updated_at: a stage change is news, a refreshed prediction is not.
       updated_at = CASE WHEN e.transition_at IS NOT NULL THEN now() ELSE c.updated_at END
  FROM jsonb_to_recordset($1::jsonb) AS e(
       customer_id text, purchase_count int, first_purchase_at timestamptz, last_purchase_at timestamptz, revenue numeric,
       purchase_days int, zbar numeric, refunded numeric, tickets_total int, open_tickets int,
       latest_nps smallint, latest_nps_at timestamptz, latest_csat smallint, latest_csat_at timestamptz,
       latest_ces smallint, latest_ces_at timestamptz,
       stage text, reason text, since timestamptz, transition_reason text, transition_at timestamptz,
       review_at timestamptz, p_alive float8, p_alive_below_at timestamptz, expected_purchases float8,
       expected_spend numeric, predicted_clv numeric, model_id bigint, historical_clv numeric, simple_clv numeric, profit_clv numeric,
       lifespan_years float8, lifespan_source text,
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
