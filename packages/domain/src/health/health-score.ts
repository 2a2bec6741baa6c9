import { z } from "zod";

/** Weights of the health score's parts, and the references that scale them. Configuration. */
export const HealthSettings = z.object({
  weights: z
    .object({
      recency: z.number().min(0).default(0.3),
      frequency: z.number().min(0).default(0.2),
      monetary: z.number().min(0).default(0.2),
      sentiment: z.number().min(0).default(0.2),
      support: z.number().min(0).default(0.1),
    })
    .default({ recency: 0.3, frequency: 0.2, monetary: 0.2, sentiment: 0.2, support: 0.1 }),
  /** Days without a purchase at which recency reaches 0 (the churn window by default). */
  recencyZeroAfterDays: z.number().positive().default(180),
  /** Purchase count that earns full frequency (log-scaled below it). */
  fullFrequencyAt: z.number().positive().default(10),
  /** Net revenue (base currency) that earns full monetary value (log-scaled below it). */
  fullMonetaryAt: z.number().positive().default(1000),
});
export type HealthSettings = z.infer<typeof HealthSettings>;

export interface HealthInput {
  now: Date;
  purchaseCount: number;
  lastPurchaseAt?: Date | undefined;
  /** Historical CLV: net revenue in the base currency. */
  netRevenue: number;
  latestNps?: number | undefined;
  latestCsat?: number | undefined;
  latestCes?: number | undefined;
  openTickets: number;
  /** Open tickets past the response target with no response. */
  overdueTickets: number;
}

export interface HealthPart {
  /** 0 (bad) … 1 (good). */
  value: number;
  weight: number;
  /** What the value was computed from, for the explanation. */
  basis: string;
}

export interface HealthScore {
  /** 0–100, the weighted mean of the parts present. */
  score: number;
  /** The parts; sentiment is absent for a customer who never answered a survey. */
  parts: Partial<Record<"recency" | "frequency" | "monetary" | "sentiment" | "support", HealthPart>>;
}

const DAY_MS = 86_400_000;
const clamp01 = (x: number) => Math.min(1, Math.max(0, x));
const logScale = (x: number, full: number) => clamp01(Math.log1p(Math.max(0, x)) / Math.log1p(full));
const round3 = (x: number) => Math.round(x * 1000) / 1000;

/**
 * A customer's health, 0–100, from recency, frequency, monetary value, survey sentiment and open
 * support trouble (CONTRACT.md section 3), with every part kept so the number can be explained.
 * Sentiment averages the latest NPS (score / 10), CSAT ((score − 1) / 4) and CES ((7 − score) / 6).
 */
export function healthScore(input: HealthInput, settings: HealthSettings): HealthScore {
  const w = settings.weights;
  const parts: HealthScore["parts"] = {};
  const days = input.lastPurchaseAt ? Math.max(0, (input.now.getTime() - input.lastPurchaseAt.getTime()) / DAY_MS) : undefined;
  parts.recency = {
    value: round3(days === undefined ? 0 : 1 - clamp01(days / settings.recencyZeroAfterDays)),
    weight: w.recency,
    basis: days === undefined ? "no purchase" : `${Math.floor(days)} days since the last purchase`,
  };
  parts.frequency = { value: round3(logScale(input.purchaseCount, settings.fullFrequencyAt)), weight: w.frequency, basis: `${input.purchaseCount} purchases` };
  parts.monetary = { value: round3(logScale(input.netRevenue, settings.fullMonetaryAt)), weight: w.monetary, basis: `net revenue ${input.netRevenue.toFixed(2)}` };

  const sentiments = [
    input.latestNps !== undefined ? { v: input.latestNps / 10, s: `NPS ${input.latestNps}` } : undefined,
    input.latestCsat !== undefined ? { v: (input.latestCsat - 1) / 4, s: `CSAT ${input.latestCsat}` } : undefined,
    input.latestCes !== undefined ? { v: (7 - input.latestCes) / 6, s: `CES ${input.latestCes}` } : undefined,
  ].filter((x) => x !== undefined);
  if (sentiments.length) {
    parts.sentiment = { value: round3(sentiments.reduce((a, x) => a + x.v, 0) / sentiments.length), weight: w.sentiment, basis: sentiments.map((x) => x.s).join(", ") };
  }
  // Each open ticket costs a quarter, each overdue one half more.
  parts.support = {
    value: round3(clamp01(1 - 0.25 * input.openTickets - 0.5 * input.overdueTickets)),
    weight: w.support,
    basis: `${input.openTickets} open tickets, ${input.overdueTickets} past the response target`,
  };

  const present = Object.values(parts);
  const totalWeight = present.reduce((a, p) => a + p.weight, 0);
  const score = totalWeight > 0 ? Math.round((100 * present.reduce((a, p) => a + p.weight * p.value, 0)) / totalWeight) : 0;
  return { score, parts };
}
