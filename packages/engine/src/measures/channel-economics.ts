// CLV, CAC and CLV:CAC per acquisition channel: where marketing decides, the seed articles'
// 3:1 line (issue 13, point 5). Served with the measures when they are grouped by channel.
import { z } from "zod";
import type { Queryable } from "@lifecycle/db";
import { clvCacRatio } from "@lifecycle/domain";
import { NO_SEGMENT } from "./measures-rows.js";

/**
 * $1 from, $2 to. Per channel, the customers first seen before `to` (whether or not they bought,
 * since acquiring them was paid for either way; `acquired` counts those first seen in the period
 * too), their acquisition spend (a customer without `acquisitionCost` counts as no spend) and
 * their historical CLV (the stored one: margin applied). Sums are exact numerics; the averages are
 * rounded to cents for display, the ratio is taken from the sums.
 */
export const CHANNEL_ECONOMICS = `
SELECT channel,
       count(*)::int AS customers,
       (count(*) FILTER (WHERE first_seen_at >= $1))::int AS acquired_in_period,
       coalesce(sum(acquisition_cost), 0)::text AS spend,
       sum(historical_clv)::text AS clv_sum,
       round(coalesce(sum(acquisition_cost), 0) / count(*), 2)::text AS cac,
       round(sum(historical_clv) / count(*), 2)::text AS average_clv
  FROM (SELECT coalesce(c.acquisition_channel, '${NO_SEGMENT}') AS channel, c.first_seen_at, c.acquisition_cost, c.historical_clv
          FROM customers c WHERE c.first_seen_at < $2) x
 GROUP BY channel
 ORDER BY channel = '${NO_SEGMENT}', channel COLLATE "C"
`;

const Row = z.object({
  channel: z.string(),
  customers: z.number().int().min(1),
  acquired_in_period: z.number().int().min(0),
  spend: z.string(),
  clv_sum: z.string(),
  cac: z.string(),
  average_clv: z.string(),
});

export interface ChannelEconomics {
  /** The acquisition channel, `(none)` for customers without one. */
  channel: string;
  /** Customers first seen before `to`. */
  customers: number;
  /** Of those, first seen in the period. */
  acquiredInPeriod: number;
  /** Mean historical CLV ((purchases − refunds) × margin) over the customers, to the cent. */
  averageClv: string;
  /** Acquisition spend ÷ customers (the average cost of a customer, not of a buyer), to the cent. */
  cac: string;
  /** Σ CLV ÷ Σ acquisition spend; null when nothing was spent. */
  clvCacRatio: number | null;
  /** Under the 3:1 line (compared without dividing, so exactly 3:1 is healthy); null without spend. */
  belowThreeToOne: boolean | null;
}

/** Exact decimal text to integer cents (sums have at most 4 decimals; the ratio needs no more). */
const cents = (text: string) => Math.round(Number(text) * 100);

/** One row per channel, by name with `(none)` last. */
export async function channelEconomics(db: Queryable, { from, to }: { from: Date; to: Date }): Promise<ChannelEconomics[]> {
  const { rows } = await db.query(CHANNEL_ECONOMICS, [from, to]);
  return z.array(Row).parse(rows).map((r) => {
    const { ratio, meetsHealthyRatio } = clvCacRatio({ clvCents: cents(r.clv_sum), acquisitionCostCents: cents(r.spend) });
    return {
      channel: r.channel,
      customers: r.customers,
      acquiredInPeriod: r.acquired_in_period,
      averageClv: r.average_clv,
      cac: r.cac,
      clvCacRatio: ratio ?? null,
      belowThreeToOne: ratio === undefined ? null : !meetsHealthyRatio,
    };
  });
}
