// Holdout validation: how a model fitted on a calibration period predicted the period after it.
// The figures are those the BG/NBD literature judges a model by (FHL 2005 §7; notes/clv-models.md
// section 2(a)): actual against predicted holdout repeat transactions by number of calibration
// repeat transactions (0 … 7+), the cumulative tracking series, and per-customer error and
// correlation. Any model plugs in through its conditional expectation, so BG/NBD, Pareto/NBD or
// another are scored by the same code.

/** A customer's calibration summary, in the model's time unit (see rfmSummary). */
export type CalibrationSummary = { x: number; tx: number; T: number };

/**
 * A model's conditional expectation: expected repeat transactions in the `t` time units after the
 * calibration end, for a customer with this calibration summary. For BG/NBD:
 * `(c, t) => conditionalExpectedTransactions({ params, ...c, t })`.
 */
export type ConditionalExpectation = (customer: CalibrationSummary, t: number) => number;

export type HoldoutCustomer = CalibrationSummary & {
  /**
   * When the customer's holdout repeat transactions happened, in time units after the calibration
   * end, each in (0, holdoutLength]: one per distinct purchase day, as in the calibration summary.
   */
  holdoutTimes: readonly number[];
};

export type HoldoutValidationInput = {
  /** Customers acquired by the calibration end; those first seen in the holdout are not scored. */
  customers: readonly HoldoutCustomer[];
  /** Length of the holdout period in the model's unit (39 weeks in the published CDNOW split). */
  holdoutLength: number;
  predict: ConditionalExpectation;
  /** Step of the tracking series, in the model's unit. @defaultValue 1 (a week) */
  trackingStep?: number;
  /** The last row of the table holds customers with this many calibration repeat transactions or more. @defaultValue 7 */
  lastGroup?: number;
};

/** One row of the actual-against-predicted table. */
export type HoldoutGroup = {
  /** Calibration repeat transactions (x); the last row is this many or more. */
  calibrationTransactions: number;
  orMore: boolean;
  customers: number;
  /** Sums over the row's customers; the means are these divided by `customers`. */
  actual: number;
  predicted: number;
  actualMean: number;
  predictedMean: number;
};

/** Cumulative repeat transactions in the holdout up to `t` time units after the calibration end. */
export type TrackingPoint = { t: number; actual: number; predicted: number };

/** The stored validation of one refit: plain numbers and arrays (JSON as it is). */
export type HoldoutValidation = {
  customers: number;
  holdoutLength: number;
  calibrationTransactions: number;
  actualTransactions: number;
  predictedTransactions: number;
  byCalibrationTransactions: HoldoutGroup[];
  tracking: TrackingPoint[];
  /** Mean over customers of |predicted − actual| holdout transactions. */
  meanAbsoluteError: number;
  /** Pearson correlation of predicted and actual per customer; null when either does not vary. */
  correlation: number | null;
};

/** Scores `predict` on the holdout. Throws on a non-finite or negative prediction: a model bug, not a result. */
export function validateHoldout({ customers, holdoutLength, predict, trackingStep = 1, lastGroup = 7 }: HoldoutValidationInput): HoldoutValidation {
  if (!(holdoutLength > 0)) throw new RangeError(`validateHoldout: the holdout length must be positive, got ${holdoutLength}`);
  if (!(trackingStep > 0)) throw new RangeError(`validateHoldout: the tracking step must be positive, got ${trackingStep}`);
  const horizons = trackingHorizons(holdoutLength, trackingStep);
  const predictAll = memoisedByCustomer(predict, horizons);

  const groups = Array.from({ length: lastGroup + 1 }, (_, x) => ({ calibrationTransactions: x, orMore: x === lastGroup, customers: 0, actual: 0, predicted: 0 }));
  const trackedActual = horizons.map(() => 0);
  const trackedPredicted = horizons.map(() => 0);
  const actuals: number[] = [];
  const predictions: number[] = [];
  let calibrationTransactions = 0;
  for (const customer of customers) {
    const atHorizons = predictAll(customer);
    const predicted = atHorizons[atHorizons.length - 1] ?? 0;
    const actual = customer.holdoutTimes.length;
    horizons.forEach((t, k) => {
      trackedPredicted[k] = (trackedPredicted[k] ?? 0) + (atHorizons[k] ?? 0);
      trackedActual[k] = (trackedActual[k] ?? 0) + customer.holdoutTimes.filter((s) => s <= t).length;
    });
    const group = groups[Math.min(customer.x, lastGroup)];
    if (group) {
      group.customers += 1;
      group.actual += actual;
      group.predicted += predicted;
    }
    calibrationTransactions += customer.x;
    actuals.push(actual);
    predictions.push(predicted);
  }

  const n = customers.length;
  return {
    customers: n,
    holdoutLength,
    calibrationTransactions,
    actualTransactions: sum(actuals),
    predictedTransactions: sum(predictions),
    byCalibrationTransactions: groups.map((g) => ({ ...g, actualMean: g.customers ? g.actual / g.customers : 0, predictedMean: g.customers ? g.predicted / g.customers : 0 })),
    tracking: horizons.map((t, k) => ({ t, actual: trackedActual[k] ?? 0, predicted: trackedPredicted[k] ?? 0 })),
    meanAbsoluteError: n ? sum(actuals.map((a, i) => Math.abs((predictions[i] ?? 0) - a))) / n : 0,
    correlation: pearson(predictions, actuals),
  };
}

// step, 2·step, … and the holdout's end (a last, shorter step when it does not divide evenly;
// the tolerance keeps 273 days / 7 = 39 weeks from gaining a 40th point through rounding).
function trackingHorizons(length: number, step: number): number[] {
  const horizons: number[] = [];
  for (let k = 1; k * step < length - 1e-9; k++) horizons.push(k * step);
  horizons.push(length);
  return horizons;
}

// Many customers share a calibration summary (every x = 0 customer acquired on the same day):
// each distinct one is predicted once per horizon.
function memoisedByCustomer(predict: ConditionalExpectation, horizons: readonly number[]) {
  const cache = new Map<string, number[]>();
  return ({ x, tx, T }: CalibrationSummary): number[] => {
    const key = `${x}:${x === 0 ? 0 : tx}:${T}`;
    let values = cache.get(key);
    if (!values) {
      values = horizons.map((t) => {
        const value = predict({ x, tx, T }, t);
        if (!(Number.isFinite(value) && value >= 0)) throw new RangeError(`validateHoldout: prediction ${value} for x=${x} tx=${tx} T=${T} t=${t}`);
        return value;
      });
      cache.set(key, values);
    }
    return values;
  };
}

function sum(values: readonly number[]): number {
  return values.reduce((a, v) => a + v, 0);
}

function pearson(xs: readonly number[], ys: readonly number[]): number | null {
  const n = xs.length;
  if (n < 2) return null;
  const mx = sum(xs) / n;
  const my = sum(ys) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = (xs[i] ?? 0) - mx;
    const dy = (ys[i] ?? 0) - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : null;
}
