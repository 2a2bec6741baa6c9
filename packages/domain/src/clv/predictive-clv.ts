// Per-customer predictive CLV: a purchase-count model (BG/NBD or Pareto/NBD, whichever the refit
// applied) for how many purchases, Gamma-Gamma for how much each.
// It runs for every customer an event touches, so it is closed-form only: one ₂F₁ per discount
// period (one in total without discounting) and no fitting.

import type { CountModel } from "./count-model.js";
import { conditionalExpectedSpend, type GammaGammaParams } from "./gamma-gamma.js";
import type { RfmSummary } from "./rfm-summary.js";

export type PredictiveClvInput = {
  /** The purchase-count model (countModel(spec)). */
  model: CountModel;
  gammaGamma: GammaGammaParams;
  /** The customer's summary, in the same time unit the models were fitted in. */
  customer: RfmSummary;
  /** Prediction horizon, in the model's time unit (52 = a year when the unit is weeks). */
  horizon: number;
  /**
   * Profit margin applied to spend, so predictedClv is profit rather than revenue.
   * @defaultValue 1
   */
  margin?: number;
  /**
   * Annual discount rate (0.1 = 10%). Cash flows are discounted per month at the equivalent
   * monthly rate (1 + rate)^(1/12) − 1, which is exactly lifetimes' `_customer_lifetime_value`
   * (utils.py 449–503) given that monthly rate.
   * @defaultValue 0
   */
  annualDiscountRate?: number;
  /**
   * Model time units per month, the discounting step. lifetimes uses 4.345 weeks; use 30 for days.
   * @defaultValue 4.345
   */
  unitsPerMonth?: number;
};

export type PredictiveClv = {
  /** P(alive) now (the count model's). */
  pAlive: number;
  /** Expected purchases over the horizon, undiscounted: E[Y(horizon) | x, t_x, T]. */
  expectedPurchases: number;
  /** Expected spend per purchase: E(Z | z̄, x) (Gamma-Gamma). */
  expectedSpend: number;
  /** Σ over months of (expected purchases in the month) × expectedSpend × margin, discounted. */
  predictedClv: number;
};

/**
 * Predict one customer's value over `horizon`. Each month's expected purchases are the difference
 * of eq. 10 at its end and start, discounted by (1 + annualDiscountRate)^(−end / (12 · unitsPerMonth));
 * a final partial month ends at the horizon.
 */
export function predictiveClv({
  model,
  gammaGamma,
  customer: { x, tx, T, zbar },
  horizon,
  margin = 1,
  annualDiscountRate = 0,
  unitsPerMonth = 4.345,
}: PredictiveClvInput): PredictiveClv {
  if (!(horizon >= 0) || !(unitsPerMonth > 0) || !(annualDiscountRate > -1)) {
    throw new RangeError(`predictiveClv: invalid horizon=${horizon} unitsPerMonth=${unitsPerMonth} rate=${annualDiscountRate}`);
  }
  const alive = model.pAlive({ x, tx, T });
  const expectedSpend = conditionalExpectedSpend({ params: gammaGamma, x, zbar });
  const ifAlive = (t: number): number => model.expectedIfAlive({ x, tx, T }, t);

  let discountedPurchases: number;
  let total: number;
  if (annualDiscountRate === 0 || horizon === 0) {
    total = horizon === 0 ? 0 : ifAlive(horizon);
    discountedPurchases = total;
  } else {
    const logDiscountPerUnit = Math.log1p(annualDiscountRate) / (12 * unitsPerMonth);
    // The 1e-9 keeps a horizon of exactly k months from growing an empty (k+1)-th step.
    const months = Math.ceil(horizon / unitsPerMonth - 1e-9);
    let previous = 0;
    discountedPurchases = 0;
    for (let k = 1; k <= months; k++) {
      const end = Math.min(k * unitsPerMonth, horizon);
      const cumulative = ifAlive(end);
      discountedPurchases += (cumulative - previous) * Math.exp(-logDiscountPerUnit * end);
      previous = cumulative;
    }
    total = previous;
  }
  return {
    pAlive: alive,
    expectedPurchases: total * alive,
    expectedSpend,
    predictedClv: discountedPurchases * alive * expectedSpend * margin,
  };
}
