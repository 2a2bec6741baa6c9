// BG/NBD (Fader, Hardie & Lee 2005, "Counting Your Customers the Easy Way"): the likelihood
// (eq. 6), its fit, P(alive) (note 021), E[X(t)] (eq. 9) and E[Y(t) | x, t_x, T] (eq. 10).
// Formulas and published checks: notes/clv-models.md sections 2(a) and 4.

import { minimizePositive } from "./nelder-mead.js";
import { groupCustomers, nonNegativeHorizon, rateScaleStart, type CountCustomer, type CustomerRows } from "./customer-rows.js";
import { hyp2f1, logGamma, logSumExp } from "./special.js";

/** Population parameters: purchase rate ~ Gamma(r, α); dropout probability ~ Beta(a, b). */
export type BgNbdParams = { r: number; alpha: number; a: number; b: number };

/** A customer's calibration summary (see rfmSummary). `weight` counts identical customers. */
export type BgNbdCustomer = CountCustomer;

export type BgNbdFit = BgNbdParams & {
  /** Sample log-likelihood (the sum, as BTYD and the papers report it; lifetimes prints the mean). */
  logLikelihood: number;
  iterations: number;
  converged: boolean;
  /** Number of customers (sum of weights). */
  sampleSize: number;
};

const MODEL = "BG/NBD";
const prepare = (customers: readonly BgNbdCustomer[]): CustomerRows => groupCustomers(customers, MODEL);

// Σ ln A₁ + ln A₂ per distinct x, then ln(A₃ + δA₄) per row with log-sum-exp.
function preparedLogLikelihood(data: CustomerRows, { r, alpha, a, b }: BgNbdParams): number {
  const shared = r * Math.log(alpha) - logGamma(r) + logGamma(a + b) - logGamma(b);
  const logA4Factor: number[] = [];
  let ll = 0;
  data.xs.forEach((x, i) => {
    const lnA1A2 = shared + logGamma(r + x) + logGamma(b + x) - logGamma(a + b + x);
    ll += (data.xWeights[i] ?? 0) * lnA1A2;
    logA4Factor.push(x > 0 ? Math.log(a) - Math.log(b + x - 1) : Number.NEGATIVE_INFINITY);
  });
  const logAlpha = (t: number): number => Math.log(alpha + t);
  for (const { xIndex, tx, T, weight } of data.rows) {
    const rx = r + (data.xs[xIndex] ?? 0);
    const lnA3 = -rx * logAlpha(T);
    const lnA4 = logA4Factor[xIndex] ?? Number.NEGATIVE_INFINITY;
    ll += weight * (lnA4 === Number.NEGATIVE_INFINITY ? lnA3 : logSumExp(lnA3, lnA4 - rx * logAlpha(tx)));
  }
  return ll;
}

/** Sample log-likelihood (sum over customers) of BG/NBD at `params`. */
export function bgNbdLogLikelihood({ params, customers }: { params: BgNbdParams; customers: readonly BgNbdCustomer[] }): number {
  return preparedLogLikelihood(prepare(customers), params);
}

export type FitBgNbdOptions = {
  customers: readonly BgNbdCustomer[];
  /**
   * Starting point. The default is scaled to the data so that the time unit does not matter:
   * r = 1, α = ΣT / Σx (the crude mean rate r/α equals the observed repeat rate), a = b = 1.
   */
  start?: BgNbdParams;
  /** @defaultValue 5000 per Nelder–Mead run */
  maxIterations?: number;
  /** Relative tolerance on the log-likelihood. @defaultValue 1e-12 */
  fTolerance?: number;
  /** Tolerance on the log-parameters (a relative tolerance on the parameters). @defaultValue 1e-9 */
  xTolerance?: number;
  /** Parameter bounds. @defaultValue 1e-8 and 1e8 */
  lowerBound?: number;
  upperBound?: number;
};

/** Maximum-likelihood BG/NBD fit (Nelder–Mead on log-parameters, restarted until it stops improving). */
export function fitBgNbd({ customers, start, ...options }: FitBgNbdOptions): BgNbdFit {
  const data = prepare(customers);
  if (data.sampleSize === 0) throw new RangeError("fitBgNbd: no customers");
  const initial = start ?? defaultStart(data);
  const result = minimizePositive({
    ...options,
    f: ([r = 1, alpha = 1, a = 1, b = 1]) => -preparedLogLikelihood(data, { r, alpha, a, b }),
    start: [initial.r, initial.alpha, initial.a, initial.b],
  });
  const [r = Number.NaN, alpha = Number.NaN, a = Number.NaN, b = Number.NaN] = result.point;
  return {
    r,
    alpha,
    a,
    b,
    logLikelihood: -result.value,
    iterations: result.iterations,
    converged: result.converged,
    sampleSize: data.sampleSize,
  };
}

function defaultStart(data: CustomerRows): BgNbdParams {
  return { r: 1, alpha: rateScaleStart(data), a: 1, b: 1 };
}

export type BgNbdCustomerArgs = { params: BgNbdParams; x: number; tx: number; T: number };

/** P(alive | x, t_x, T). Exactly 1 when x = 0: the model lets customers drop out only after a purchase. */
export function pAlive({ params: { r, alpha, a, b }, x, tx, T }: BgNbdCustomerArgs): number {
  if (x === 0) return 1;
  const logOdds = Math.log(a) - Math.log(b + x - 1) + (r + x) * (Math.log(alpha + T) - Math.log(alpha + tx));
  return 1 / (1 + Math.exp(logOdds));
}

/** E[X(t)]: expected repeat purchases in (0, t] for a customer acquired at time 0 (eq. 9). */
export function expectedTransactions({ params, t }: { params: BgNbdParams; t: number }): number {
  const { r, alpha, b } = params;
  if (t <= 0) return nonNegativeHorizon(t, MODEL);
  return nearUnitA(params.a, (a) => {
    const z = t / (alpha + t);
    const scaled = hyp2f1({ a: r, b, c: a + b - 1, z, logScale: r * (Math.log(alpha) - Math.log(alpha + t)) });
    return ((a + b - 1) / (a - 1)) * (1 - scaled);
  });
}

/** E[Y(t) | x, t_x, T]: expected purchases in the next t time units (eq. 10). */
export function conditionalExpectedTransactions(args: BgNbdCustomerArgs & { t: number }): number {
  return expectedTransactionsIfAlive(args) * pAlive(args);
}

/**
 * Eq. 10's numerator: expected purchases in the next t for a customer known to be alive. Exported
 * for predictive-clv, which needs it at several horizons and P(alive) only once.
 */
export function expectedTransactionsIfAlive({ params, x, T, t }: BgNbdCustomerArgs & { t: number }): number {
  const { r, alpha, b } = params;
  if (t <= 0) return nonNegativeHorizon(t, MODEL);
  return nearUnitA(params.a, (a) => {
    const z = t / (alpha + T + t);
    const logScale = (r + x) * (Math.log(alpha + T) - Math.log(alpha + T + t));
    const scaled = hyp2f1({ a: r + x, b: b + x, c: a + b + x - 1, z, logScale });
    return ((a + b + x - 1) / (a - 1)) * (1 - scaled);
  });
}

// Eqs. 9 and 10 are 0/0 at a = 1 (the limit exists). Near it, average the two sides: the
// curvature error is O(1e-12) and the cancellation costs about six digits.
const UNIT_A_GAP = 1e-6;
function nearUnitA(a: number, evaluate: (a: number) => number): number {
  if (Math.abs(a - 1) >= UNIT_A_GAP) return evaluate(a);
  return (evaluate(1 - UNIT_A_GAP) + evaluate(1 + UNIT_A_GAP)) / 2;
}

/**
 * The age T (time since the first purchase, in the model's unit) at which P(alive) falls to
 * `threshold` if the customer, last seen buying at t_x, buys nothing more: P(alive) solved for T,
 *   T = (α + t_x) · [(1 − p) / p · (b + x − 1) / a]^{1/(r+x)} − α.
 * Returns undefined when x = 0 (P(alive) is 1 forever), and t_x when P(alive) was already at or
 * below the threshold right after the last purchase (its ceiling is 1 / (1 + a / (b + x − 1))).
 */
export function ageAtPAliveThreshold({
  params: { r, alpha, a, b },
  x,
  tx,
  threshold,
}: {
  params: BgNbdParams;
  x: number;
  tx: number;
  threshold: number;
}): number | undefined {
  if (!(threshold > 0 && threshold < 1)) throw new RangeError(`threshold must be in (0, 1), got ${threshold}`);
  if (x === 0) return undefined;
  const logRatio = (Math.log((1 - threshold) / threshold) - Math.log(a) + Math.log(b + x - 1)) / (r + x);
  if (logRatio <= 0) return tx;
  return (alpha + tx) * Math.exp(logRatio) - alpha;
}
