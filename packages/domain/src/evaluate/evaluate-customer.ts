import { z } from "zod";
import type { CountModel } from "../clv/count-model.js";
import type { GammaGammaParams } from "../clv/gamma-gamma.js";
import { predictiveClv } from "../clv/predictive-clv.js";
import { utcDay, type RfmSummary } from "../clv/rfm-summary.js";
import { clvCacRatio, historicalClvCents, profitClvCents, simpleClvCents } from "../clv/simple-clv.js";
import { healthScore, HealthSettings, type HealthScore } from "../health/health-score.js";
import { decideTransition, type CurrentStage, type StageTransition } from "../stages/decide-transition.js";
import { deriveStage, type DerivedStage } from "../stages/derive-stage.js";
import type { StageFacts } from "../stages/stage-facts.js";
import { DeliverySettings } from "../delivery/decide-delivery.js";
import { StageRules } from "../stages/stage-rules.js";
import { PlaybookSettings } from "../playbooks/playbook-settings.js";
import { expectedLifespan, type Lifespan, type MeasuredChurn } from "./lifespan.js";

/** How value is computed: configuration, validated once at start-up. */
export const ClvSettings = z.object({
  /** Horizon of predicted CLV and expected purchases, in days. @defaultValue 365 */
  horizonDays: z.number().positive().default(365),
  /** Gross margin: historical, predicted and profit CLV are revenue × margin (1 = revenue). @defaultValue 1 */
  margin: z.number().gt(0).max(1).default(1),
  /** Annual discount rate for predicted CLV. @defaultValue 0.1 */
  annualDiscountRate: z.number().min(0).lt(1).default(0.1),
  /** Expected lifespan in years for the simple and profit CLV formulas, when no annual churn rate can be measured. @defaultValue 3 */
  lifespanYears: z.number().positive().default(3),
  /** The most years a lifespan from the measured churn (1 ÷ rate) may be. @defaultValue 10 */
  maxLifespanYears: z.number().positive().default(10),
});
export type ClvSettings = z.infer<typeof ClvSettings>;

export const EngineSettings = z.object({
  rules: StageRules.default(StageRules.parse({})),
  clv: ClvSettings.default(ClvSettings.parse({})),
  health: HealthSettings.default(HealthSettings.parse({})),
  playbooks: PlaybookSettings.default(PlaybookSettings.parse({})),
  delivery: DeliverySettings.default(DeliverySettings.parse({})),
});
export type EngineSettings = z.infer<typeof EngineSettings>;

/** The newest fitted population models, if any. */
export interface FittedModels {
  /** The purchase-count model the last refit applied (BG/NBD or Pareto/NBD), built from its stored spec. */
  count?: { id: number; model: CountModel; daysPerUnit: number } | undefined;
  gammaGamma?: { id: number; params: GammaGammaParams } | undefined;
}

/** Everything the engine knows about one customer, from Postgres. Amounts in the base currency. */
export interface CustomerState {
  customerId: string;
  facts: Omit<StageFacts, "pAliveBelowThresholdAt">;
  purchaseDays: number;
  repeatDaySpendMean: number;
  revenue: number;
  refunded: number;
  acquisitionCost?: number | undefined;
  latestNps?: number | undefined;
  latestCsat?: number | undefined;
  latestCes?: number | undefined;
  openTickets: number;
  current?: CurrentStage | undefined;
}

export interface Prediction {
  modelId: number;
  pAlive: number;
  /** When P(alive) falls below the rules' threshold if nothing is bought; undefined for one-time buyers. */
  pAliveBelowAt?: Date | undefined;
  expectedPurchases: number;
  expectedSpend?: number | undefined;
  predictedClv?: number | undefined;
}

export interface Evaluation {
  stage: DerivedStage;
  transition?: StageTransition | undefined;
  prediction?: Prediction | undefined;
  /** (Revenue − refunds) × margin, in whole cents (historicalClvCents). */
  historicalClv: number;
  simpleClv?: number | undefined;
  /** The lifespan the simple and profit CLV used, and where it came from; with them. */
  lifespan?: Lifespan | undefined;
  profitClv?: number | undefined;
  clvCacRatio?: number | undefined;
  health: HealthScore;
}

const DAY_MS = 86_400_000;
const YEAR_DAYS = 365.25;

/** The BG/NBD summary (x, t_x, T in the model's unit) from stored facts, as of `now`. */
export function summaryFromFacts(state: CustomerState, now: Date, daysPerUnit: number): RfmSummary | undefined {
  const { firstPurchaseAt, lastPurchaseAt } = state.facts;
  if (!firstPurchaseAt || !lastPurchaseAt || state.purchaseDays < 1) return undefined;
  const first = utcDay(firstPurchaseAt);
  const tx = (utcDay(lastPurchaseAt) - first) / daysPerUnit;
  return { x: state.purchaseDays - 1, tx, T: Math.max(tx, (utcDay(now) - first) / daysPerUnit), zbar: state.repeatDaySpendMean };
}

function predict(state: CustomerState, now: Date, models: FittedModels, settings: EngineSettings): Prediction | undefined {
  const count = models.count;
  if (!count) return undefined;
  const { model, daysPerUnit } = count;
  const summary = summaryFromFacts(state, now, daysPerUnit);
  if (!summary) return undefined;
  const { x, tx, T } = summary;
  // The customer's own rhythm needs a repeat purchase: one-time buyers keep the at-risk window,
  // whichever model is applied (Pareto/NBD would give them a P(alive) date too; BG/NBD cannot).
  const age = x >= 1 ? model.ageAtPAliveThreshold({ x, tx }, settings.rules.pAliveThreshold) : undefined;
  const firstDayMs = utcDay(state.facts.firstPurchaseAt ?? now) * DAY_MS;
  const pAliveBelowAt = age === undefined ? undefined : new Date(firstDayMs + Math.ceil(age * daysPerUnit * DAY_MS));
  const gg = models.gammaGamma;
  const horizon = settings.clv.horizonDays / daysPerUnit;
  const base = { modelId: count.id, pAliveBelowAt };
  if (!gg) {
    // Without a spend model the purchases can still be predicted; the value cannot.
    return { ...base, pAlive: model.pAlive({ x, tx, T }), expectedPurchases: model.conditionalExpected({ x, tx, T }, horizon) };
  }
  const value = predictiveClv({
    model,
    gammaGamma: gg.params,
    customer: summary,
    horizon,
    margin: settings.clv.margin,
    annualDiscountRate: settings.clv.annualDiscountRate,
    unitsPerMonth: YEAR_DAYS / 12 / daysPerUnit,
  });
  return { ...base, ...value };
}

/**
 * One customer's full evaluation at `now`: stage (and the transition from the stored one),
 * predictive CLV from the fitted models, the seed articles' simple and profit CLV, and the
 * health score. Pure: the engine loads the state, calls this, and writes the result.
 */
export function evaluateCustomer({
  state,
  now,
  models,
  settings,
  churn,
}: {
  state: CustomerState;
  now: Date;
  models: FittedModels;
  settings: EngineSettings;
  /** The base's measured annual churn, when the engine has one: it sets the simple CLV's lifespan. */
  churn?: MeasuredChurn | undefined;
}): Evaluation {
  const prediction = predict(state, now, models, settings);
  const facts: StageFacts = { ...state.facts, pAliveBelowThresholdAt: prediction?.pAliveBelowAt };
  const stage = deriveStage({ facts, now, rules: settings.rules });
  const transition = decideTransition({ current: state.current, derived: stage, lastPurchaseAt: facts.lastPurchaseAt, now });
  const historicalClv = historicalClvCents({ netRevenueCents: (state.revenue - state.refunded) * 100, margin: settings.clv.margin }) / 100;

  let simpleClv: number | undefined;
  let profitClv: number | undefined;
  let ratio: number | undefined;
  let lifespan: Lifespan | undefined;
  const first = facts.firstPurchaseAt;
  if (first && facts.purchaseCount > 0) {
    const aovCents = (state.revenue * 100) / facts.purchaseCount;
    // A customer's yearly rate over its tenure so far, counting at least one year so a first-week
    // buyer is not extrapolated to 52 purchases a year.
    const tenureYears = Math.max(1, (now.getTime() - first.getTime()) / DAY_MS / YEAR_DAYS);
    const perYear = facts.purchaseCount / tenureYears;
    lifespan = expectedLifespan({ churn, settingYears: settings.clv.lifespanYears, maxYears: settings.clv.maxLifespanYears });
    const lifespanYears = lifespan.years;
    const simpleCents = simpleClvCents({ averageOrderValueCents: aovCents, purchasesPerYear: perYear, lifespanYears });
    const cacCents = Math.round((state.acquisitionCost ?? 0) * 100);
    simpleClv = simpleCents / 100;
    profitClv = profitClvCents({ annualProfitContributionCents: aovCents * perYear * settings.clv.margin, yearsRetained: lifespanYears, acquisitionCostCents: cacCents }) / 100;
    ratio = clvCacRatio({ clvCents: simpleCents * settings.clv.margin, acquisitionCostCents: cacCents }).ratio;
  }

  const target = settings.rules.responseTargetMinutes * 60_000;
  const health = healthScore(
    {
      now,
      purchaseCount: facts.purchaseCount,
      lastPurchaseAt: facts.lastPurchaseAt,
      netRevenue: state.revenue - state.refunded,
      latestNps: state.latestNps,
      latestCsat: state.latestCsat,
      latestCes: state.latestCes,
      openTickets: state.openTickets,
      overdueTickets: facts.unansweredTicketsOpenedAt.filter((t) => now.getTime() - t.getTime() >= target).length,
    },
    settings.health,
  );
  return { stage, transition, prediction, historicalClv, simpleClv, lifespan, profitClv, clvCacRatio: ratio, health };
}
