// The experience measures' counts, one set-based statement per family. Every statement takes
// $1 from, $2 to (the period [from, to)) and $3 the grouping ('stage', 'channel' or NULL), and
// returns the overall row (`overall` true, from the empty grouping set) plus, when $3 is set,
// a row per segment. With $3 NULL the per-segment rows are filtered out by the HAVING clause,
// so one fixed SQL text serves all three groupings and nothing is spliced in at run time.

/** The customer's segment (alias `c`): current stage or acquisition channel, `(none)` if unset. */
const SEGMENT = `coalesce(CASE $3::text WHEN 'stage' THEN c.stage WHEN 'channel' THEN c.acquisition_channel END, '(none)')`;

const GROUPS = `GROUP BY GROUPING SETS ((), (segment))
HAVING grouping(segment) = 1 OR $3::text IS NOT NULL`;

const OVERALL = "grouping(segment) = 1 AS overall, segment";

/** $4 NPS promoter min, $5 NPS detractor max, $6 CSAT satisfied min. Responses with event time in the period. */
export const SURVEY_COUNTS = `
SELECT ${OVERALL},
       count(*) FILTER (WHERE kind = 'nps')::int AS nps_responses,
       count(*) FILTER (WHERE kind = 'nps' AND score >= $4)::int AS nps_promoters,
       count(*) FILTER (WHERE kind = 'nps' AND score <= $5)::int AS nps_detractors,
       count(*) FILTER (WHERE kind = 'csat')::int AS csat_responses,
       count(*) FILTER (WHERE kind = 'csat' AND score >= $6)::int AS csat_satisfied,
       count(*) FILTER (WHERE kind = 'ces')::int AS ces_responses,
       coalesce(sum(score) FILTER (WHERE kind = 'ces'), 0)::int AS ces_sum
  FROM (SELECT ${SEGMENT} AS segment, r.kind, r.score
          FROM survey_responses r JOIN customers c USING (customer_id)
         WHERE r.event_time >= $1 AND r.event_time < $2) x
${GROUPS}
`;

/**
 * Customers active at `from` (their latest stage change before it, by event time then id, put
 * them in new, repeat or at-risk) and, of those, the ones with any change to churned in the
 * period: counted once however often they churned.
 */
export const CHURN_COUNTS = `
WITH at_start AS (
  SELECT DISTINCT ON (customer_id) customer_id, to_stage
    FROM stage_transitions WHERE event_time < $1
   ORDER BY customer_id, event_time DESC, id DESC
), lost AS (
  SELECT DISTINCT customer_id FROM stage_transitions
   WHERE to_stage = 'churned' AND event_time >= $1 AND event_time < $2
)
SELECT ${OVERALL},
       count(*)::int AS active_at_start,
       count(l.customer_id)::int AS lost
  FROM (SELECT ${SEGMENT} AS segment, s.customer_id
          FROM at_start s JOIN customers c USING (customer_id)
         WHERE s.to_stage IN ('new', 'repeat', 'at-risk')) x
  LEFT JOIN lost l USING (customer_id)
${GROUPS}
`;

/**
 * $4 response target in minutes. Response times and the share within target: tickets opened in
 * the period. First-contact resolution: tickets resolved in the period with `contacts` given and
 * not reopened since (a reopened ticket is not resolved). One pass over the tickets touching the
 * period, the FILTERs pick each measure's rows.
 */
export const SUPPORT_COUNTS = `
SELECT ${OVERALL},
       percentile_cont(0.5) WITHIN GROUP (ORDER BY response_minutes) FILTER (WHERE opened_in) AS response_median_minutes,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY response_minutes) FILTER (WHERE opened_in) AS response_p90_minutes,
       count(*) FILTER (WHERE opened_in AND response_minutes IS NOT NULL)::int AS responded,
       count(*) FILTER (WHERE opened_in AND response_minutes <= $4::float8)::int AS within_target,
       count(*) FILTER (WHERE opened_in AND overdue)::int AS overdue_unanswered,
       count(*) FILTER (WHERE resolved_in)::int AS resolved,
       count(*) FILTER (WHERE resolved_in AND contacts = 1)::int AS first_contact
  FROM (SELECT ${SEGMENT} AS segment, t.contacts,
               t.opened_at >= $1 AND t.opened_at < $2 AS opened_in,
               extract(epoch FROM t.first_response_at - t.opened_at)::float8 / 60 AS response_minutes,
               -- Unanswered, still unresolved, and past the target at the period's end: missed.
               (t.first_response_at IS NULL AND t.resolved_at IS NULL AND t.opened_at + $4::float8 * interval '1 minute' <= $2) AS overdue,
               (t.resolved_at >= $1 AND t.resolved_at < $2 AND t.contacts IS NOT NULL
                AND (t.last_reopened_at IS NULL OR t.last_reopened_at <= t.resolved_at)) AS resolved_in
          FROM tickets t JOIN customers c USING (customer_id)
         WHERE (t.opened_at >= $1 AND t.opened_at < $2) OR (t.resolved_at >= $1 AND t.resolved_at < $2)) x
${GROUPS}
`;

/**
 * Customers with a purchase before `to`: new ones (first purchase in the period) and whether
 * they came by referral (`referred_by`, or a referral code on their earliest order); whether
 * they bought twice or more before `to`; and their mean current CLV, rounded to cents for
 * display (amounts are exact numerics, never floats).
 */
export const CUSTOMER_COUNTS = `
SELECT ${OVERALL},
       count(*) FILTER (WHERE first_purchase_at >= $1)::int AS new_customers,
       count(*) FILTER (WHERE first_purchase_at >= $1 AND referred)::int AS referred,
       count(*)::int AS buyers,
       count(*) FILTER (WHERE orders >= 2)::int AS repeat_buyers,
       round(avg(historical_clv), 2)::text AS avg_historical_clv,
       count(predicted_clv)::int AS predicted,
       round(avg(predicted_clv), 2)::text AS avg_predicted_clv
  FROM (SELECT ${SEGMENT} AS segment, c.first_purchase_at, c.historical_clv, c.predicted_clv, o.orders,
               (c.referred_by IS NOT NULL OR o.first_referral_code IS NOT NULL) AS referred
          FROM (SELECT customer_id, count(*) AS orders,
                       (array_agg(referral_code ORDER BY event_time, event_id))[1] AS first_referral_code
                  FROM orders WHERE event_time < $2 GROUP BY customer_id) o
          JOIN customers c USING (customer_id)) x
${GROUPS}
`;
