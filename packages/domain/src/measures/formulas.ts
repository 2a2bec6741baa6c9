// The experience measures of CONTRACT.md section 3, from counts. Pure: the engine counts in SQL
// and calls these, so each definition lives in one place.
//
// Every measure is `null` when its denominator is 0: "no responses" must not read as 0% (a
// terrible score) or NaN (which JSON turns into null anyway, silently). Nothing rounds here:
// presentation rounds. Percentages are computed as `part × 100 ÷ whole`, a single division of
// exact integers, so a result is the double nearest the true value (1 of 3 is exactly `100 / 3`).

/** NPS bands: promoters answer 9–10, detractors 0–6, and 7–8 are passives. */
export const NPS_PROMOTER_MIN = 9;
export const NPS_DETRACTOR_MAX = 6;
/** CSAT: a response of 4 or 5 (of 1–5) is a satisfied one. */
export const CSAT_SATISFIED_MIN = 4;

function assertCount(name: string, n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${name} must be a whole number ≥ 0, got ${n}`);
}

/** `part × 100 ÷ whole`, or null when `whole` is 0. Throws on counts that cannot be (a bug upstream). */
export function percentOf(part: number, whole: number): number | null {
  assertCount("part", part);
  assertCount("whole", whole);
  if (part > whole) throw new RangeError(`part (${part}) exceeds whole (${whole})`);
  return whole === 0 ? null : (part * 100) / whole;
}

export interface NpsCounts {
  responses: number;
  promoters: number;
  passives: number;
  detractors: number;
}

/** Sorts NPS answers (0–10) into the bands. */
export function tallyNps(scores: readonly number[]): NpsCounts {
  const promoters = scores.filter((s) => s >= NPS_PROMOTER_MIN).length;
  const detractors = scores.filter((s) => s <= NPS_DETRACTOR_MAX).length;
  return { responses: scores.length, promoters, passives: scores.length - promoters - detractors, detractors };
}

/**
 * NPS = % promoters − % detractors, from −100 to 100. Computed as
 * (promoters − detractors) × 100 ÷ responses: the same value with one rounding instead of three.
 */
export function npsScore({ responses, promoters, detractors }: Pick<NpsCounts, "responses" | "promoters" | "detractors">): number | null {
  for (const [name, n] of [["responses", responses], ["promoters", promoters], ["detractors", detractors]] as const) assertCount(name, n);
  if (promoters + detractors > responses) throw new RangeError(`promoters + detractors (${promoters + detractors}) exceed responses (${responses})`);
  return responses === 0 ? null : ((promoters - detractors) * 100) / responses;
}

export interface CsatCounts {
  responses: number;
  satisfied: number;
}

export function tallyCsat(scores: readonly number[]): CsatCounts {
  return { responses: scores.length, satisfied: scores.filter((s) => s >= CSAT_SATISFIED_MIN).length };
}

/** CSAT % = responses of 4 or 5 ÷ all CSAT responses × 100. */
export function csatPercent({ responses, satisfied }: CsatCounts): number | null {
  return percentOf(satisfied, responses);
}

export interface CesTotals {
  responses: number;
  /** Σ effort scores (1 = very easy … 7 = very difficult). */
  sum: number;
}

export function tallyCes(scores: readonly number[]): CesTotals {
  return { responses: scores.length, sum: scores.reduce((a, s) => a + s, 0) };
}

/** CES = Σ effort scores ÷ number of CES responses (lower is better). */
export function cesAverage({ responses, sum }: CesTotals): number | null {
  assertCount("responses", responses);
  if (!Number.isFinite(sum)) throw new RangeError(`sum must be finite, got ${sum}`);
  return responses === 0 ? null : sum / responses;
}

/** Churn rate % = customers lost in the period ÷ customers active at its start × 100. */
export function churnRatePercent({ lost, activeAtStart }: { lost: number; activeAtStart: number }): number | null {
  return percentOf(lost, activeAtStart);
}

/** Referral rate % = new customers who came by referral ÷ all new customers × 100. */
export function referralRatePercent({ referred, newCustomers }: { referred: number; newCustomers: number }): number | null {
  return percentOf(referred, newCustomers);
}

/** First-contact resolution % = tickets resolved in one contact ÷ resolved tickets × 100. */
export function firstContactResolutionPercent({ firstContact, resolved }: { firstContact: number; resolved: number }): number | null {
  return percentOf(firstContact, resolved);
}

/** Repeat-purchase rate % = customers with 2 or more purchases ÷ customers with any × 100. */
export function repeatPurchaseRatePercent({ repeaters, customers }: { repeaters: number; customers: number }): number | null {
  return percentOf(repeaters, customers);
}

/** Share within target % = items that met the target ÷ items that could be judged × 100. */
export function shareWithinTargetPercent({ withinTarget, judged }: { withinTarget: number; judged: number }): number | null {
  return percentOf(withinTarget, judged);
}
