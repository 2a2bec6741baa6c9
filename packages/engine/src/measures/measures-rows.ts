// The rows of the measures' statements (measures.sql.ts), parsed at the database boundary, and
// the ordering of the segments they produce.
import { z } from "zod";
import type { Queryable } from "@lifecycle/db";
import { STAGES } from "@lifecycle/domain";

const count = z.number().int().min(0);

export const SurveyRow = z.object({
  nps_responses: count,
  nps_promoters: count,
  nps_detractors: count,
  csat_responses: count,
  csat_satisfied: count,
  ces_responses: count,
  ces_sum: count,
});
export type SurveyRow = z.infer<typeof SurveyRow>;

export const ChurnRow = z.object({ active_at_start: count, lost: count });
export type ChurnRow = z.infer<typeof ChurnRow>;

export const SupportRow = z.object({
  response_median_minutes: z.number().nullable(),
  response_p90_minutes: z.number().nullable(),
  responded: count,
  within_target: count,
  overdue_unanswered: count,
  resolved: count,
  first_contact: count,
});
export type SupportRow = z.infer<typeof SupportRow>;

/** A decimal amount as Postgres prints `numeric` rounded to cents, e.g. "59.75" or "-3.10". */
const cents = z.string().regex(/^-?\d+\.\d{2}$/).nullable();

export const CustomerRow = z.object({
  new_customers: count,
  referred: count,
  buyers: count,
  repeat_buyers: count,
  avg_historical_clv: cents,
  predicted: count,
  avg_predicted_clv: cents,
});
export type CustomerRow = z.infer<typeof CustomerRow>;

/** What a segment with no row in a family has: nothing counted (so every ratio is null). */
export const EMPTY = {
  survey: { nps_responses: 0, nps_promoters: 0, nps_detractors: 0, csat_responses: 0, csat_satisfied: 0, ces_responses: 0, ces_sum: 0 },
  churn: { active_at_start: 0, lost: 0 },
  support: { response_median_minutes: null, response_p90_minutes: null, responded: 0, within_target: 0, overdue_unanswered: 0, resolved: 0, first_contact: 0 },
  customer: { new_customers: 0, referred: 0, buyers: 0, repeat_buyers: 0, avg_historical_clv: null, predicted: 0, avg_predicted_clv: null },
} satisfies { survey: SurveyRow; churn: ChurnRow; support: SupportRow; customer: CustomerRow };

/** A family's rows by segment key; null is the overall row. */
export type FamilyRows<T> = Map<string | null, T>;

const Keyed = z.object({ overall: z.boolean(), segment: z.string().nullable() });

/** Runs one family's statement and parses its rows, keyed by segment (null: overall). */
export async function loadFamily<T>(db: Queryable, sql: string, params: unknown[], schema: z.ZodType<T>): Promise<FamilyRows<T>> {
  const result = await db.query<Record<string, unknown>>(sql, params);
  const rows = new Map<string | null, T>();
  for (const raw of result.rows) {
    const { overall, segment } = Keyed.parse(raw);
    rows.set(overall ? null : segment, schema.parse(raw));
  }
  return rows;
}

export const NO_SEGMENT = "(none)";

/**
 * Overall first, then the segments any family produced: stages in lifecycle order, channels
 * alphabetically; `(none)` last either way.
 */
export function sortKeys(groupBy: "stage" | "channel" | undefined, families: readonly FamilyRows<unknown>[]): (string | null)[] {
  const keys = new Set<string>();
  for (const f of families) for (const k of f.keys()) if (k !== null) keys.add(k);
  const stageRank = (k: string) => {
    const i = STAGES.findIndex((s) => s === k);
    return i === -1 ? STAGES.length : i;
  };
  const noneLast = (k: string) => (k === NO_SEGMENT ? 1 : 0);
  const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  const sorted = [...keys].sort((a, b) => noneLast(a) - noneLast(b) || (groupBy === "stage" ? stageRank(a) - stageRank(b) : 0) || byName(a, b));
  return [null, ...sorted];
}
