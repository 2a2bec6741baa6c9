// The at-risk list: one parameterised statement with keyset paging on (value at stake, id).
import { z } from "zod";
import type { Queryable } from "@lifecycle/db";

/**
 * Value at stake, in SQL so that the list can be ordered and paged by it (rounded to the cent
 * before ordering, so the cursor carries the exact sort key):
 *
 * - basis `predicted`: predicted CLV × (1 − P(alive)), for customers with a prediction who bought
 *   on two or more days. A one-time buyer's P(alive) is 1 by construction in BG/NBD (the model
 *   cannot judge it), which would put its value at stake at 0 whatever made it at risk.
 * - basis `historical` (everyone else): historical CLV per year of tenure (tenure from the first
 *   purchase to the customer's last evaluation, counted as at least one year, as for simple CLV),
 *   scaled to the prediction horizon, × (1 − health score / 100); a missing health score counts
 *   as 0 (all of it at stake), a negative historical CLV (refunds) as 0.
 */
const AT_RISK_SQL = `
WITH valued AS (
  SELECT customer_id, stage_since, stage_reason, p_alive, health_score, last_purchase_at,
         round(predicted_clv, 2)::text AS predicted_clv,
         round(historical_clv, 2)::text AS historical_clv,
         (predicted_clv IS NOT NULL AND p_alive IS NOT NULL AND purchase_days >= 2) AS by_prediction,
         round(CASE
           WHEN predicted_clv IS NOT NULL AND p_alive IS NOT NULL AND purchase_days >= 2
             THEN predicted_clv * (1 - p_alive::numeric)
           ELSE greatest(historical_clv, 0)
                / greatest(1, extract(epoch FROM coalesce(evaluated_at, now()) - coalesce(first_purchase_at, coalesce(evaluated_at, now()))) / 31557600)
                * $1::numeric / 365.25
                * (1 - coalesce(health_score, 0) / 100.0)
         END, 2) AS value_at_stake
    FROM customers
   WHERE stage = 'at-risk'
)
SELECT customer_id, stage_since, stage_reason, p_alive, health_score, last_purchase_at, predicted_clv, historical_clv,
       CASE WHEN by_prediction THEN 'predicted' ELSE 'historical' END AS basis,
       value_at_stake::text AS value_at_stake
  FROM valued
 WHERE $2::numeric IS NULL OR value_at_stake < $2::numeric OR (value_at_stake = $2::numeric AND customer_id > $3::text)
 ORDER BY valued.value_at_stake DESC, valued.customer_id ASC -- the numeric, not the text output column
 LIMIT $4`;

const AtRiskRow = z.object({
  customer_id: z.string(),
  stage_since: z.date().nullable(),
  stage_reason: z.string().nullable(),
  p_alive: z.number().nullable(),
  health_score: z.number().int().nullable(),
  last_purchase_at: z.date().nullable(),
  predicted_clv: z.string().nullable(),
  historical_clv: z.string(),
  basis: z.enum(["predicted", "historical"]),
  value_at_stake: z.string(),
});
export type AtRiskRow = z.infer<typeof AtRiskRow>;

/** Where a page starts: after this (value at stake, id) in the list's order. */
export interface AtRiskPosition {
  valueAtStake: string;
  id: string;
}

/** One page of at-risk customers, largest value at stake first (ties by id), and whether more follow. */
export async function listAtRisk(db: Queryable, { limit, after, horizonDays }: { limit: number; after?: AtRiskPosition | undefined; horizonDays: number }) {
  const { rows } = await db.query<Record<string, unknown>>(AT_RISK_SQL, [horizonDays, after?.valueAtStake ?? null, after?.id ?? null, limit + 1]);
  const parsed = rows.map((r) => AtRiskRow.parse(r));
  return { rows: parsed.slice(0, limit), more: parsed.length > limit };
}
