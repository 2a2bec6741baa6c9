import { lifespanYearsFromChurn } from "../clv/simple-clv.js";

/**
 * The base's churn over the year before the clock, as the engine measured it (the churn measure
 * of CONTRACT.md section 3 over [now − 1 year, now)).
 */
export interface MeasuredChurn {
  /** Lost ÷ active at the start of the year, 0..1. */
  annualRate: number;
  /** Days from the first stage change on record to the clock: how much history the rate rests on. */
  historyDays: number;
}

export type LifespanSource = "churn" | "setting";

export interface Lifespan {
  years: number;
  source: LifespanSource;
}

/** Less than a year of history cannot measure an annual rate: the year would start before the data. */
export const MIN_CHURN_HISTORY_DAYS = 365;

/**
 * The simple CLV's expected lifespan: 1 ÷ the measured annual churn rate when there is at least a
 * year of history and some churn in it (the seed articles' definition), at most `maxYears`, else
 * the configured years. A rate of 0 would mean an endless lifespan: no churn observed says too
 * little, so the setting stands; a tiny one (a quiet first year) would promise decades of
 * revenue, which the cap stops (a value to plan with must not rest on one year's luck).
 */
export function expectedLifespan({ churn, settingYears, maxYears = Number.POSITIVE_INFINITY }: { churn?: MeasuredChurn | undefined; settingYears: number; maxYears?: number }): Lifespan {
  if (churn && churn.historyDays >= MIN_CHURN_HISTORY_DAYS && churn.annualRate > 0 && churn.annualRate <= 1) {
    return { years: Math.min(maxYears, lifespanYearsFromChurn({ annualChurnRate: churn.annualRate })), source: "churn" };
  }
  return { years: settingYears, source: "setting" };
}
