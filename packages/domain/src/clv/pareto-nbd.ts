// Pareto/NBD (Schmittlein, Morrison & Colombo 1987), in the form of Fader & Hardie's note 008: the
// likelihood, its fit, P(alive), E[X(t)] and E[Y(t) | x, t_x, T]. BG/NBD's sibling: customers
// may drop out at any time (not only right after a purchase), so P(alive) < 1 even when x = 0.
// Formulas and published checks: notes/clv-models.md sections 2(b) and 4.

import { groupCustomers, nonNegativeHorizon, rateScaleStart, type CountCustomer, type CustomerRows } from "./customer-rows.js";
import { ACCEPTABLE_PARAMETERS } from "./fit-guard.js";
import { minimizePositive } from "./nelder-mead.js";
import { integralFromTails, logDiedIntegral, logTail, tailSeriesServes } from "./pareto-nbd-integral.js";
import { logGamma, logSumExp } from "./special.js";

/** Population parameters: purchase rate λ ~ Gamma(r, α); dropout rate μ ~ Gamma(s, β). */
export type ParetoNbdParams = { r: number; alpha: number; s: number; beta: number };

export type ParetoNbdFit = ParetoNbdParams & {
  /** Sample log-likelihood (the sum, as BTYD and the papers report it). */
  logLikelihood: number;
  iterations: number;
  converged: boolean;
  /** Number of customers (sum of weights). */
  sampleSize: number;
};

const MODEL = "Pareto/NBD";

/**
 * ln[(s / (r+s+x)) · A₀]: the likelihood's "died in (t_x, T]" part, up to the factor shared with
 * the "alive at T" part: s ∫_{t_x}^T (α+τ)^{−(r+x)} (β+τ)^{−(s+1)} dτ, the density of dying at τ
 * times the chance of no purchase after t_x until then. −∞ when t_x = T.
 */
function logDiedPart(params: ParetoNbdParams, x: number, tx: number, T: number): number {
  if (tx >= T) return Number.NEGATIVE_INFINITY;
  return Math.log(params.s) + logDiedIntegral(params, x, tx, T);
}

/** ln[(α+T)^{−(r+x)} (β+T)^{−s}]: the "still alive at T" part. */
function logAlivePart({ r, alpha, s, beta }: ParetoNbdParams, x: number, T: number): number {
  return -(r + x) * Math.log(alpha + T) - s * Math.log(beta + T);
}

/**
 * The rows and, for the tail terms they need, one slot per distinct (x, t) among their t_x and T:
 * rows share them (on the CDNOW master 11,104 rows need about 5,200 instead of 22,200), and each
 * is a series, so an evaluation computes each once. Built once per fit.
 */
type PreparedRows = CustomerRows & { pointX: number[]; pointT: number[]; rowTx: number[]; rowT: number[] };

function prepare(customers: readonly CountCustomer[]): PreparedRows {
  const data = groupCustomers(customers, MODEL);
  const slots = new Map<string, number>();
  const prepared: PreparedRows = { ...data, pointX: [], pointT: [], rowTx: [], rowT: [] };
  const slot = (x: number, t: number): number => {
    const key = `${x}:${t}`;
    let index = slots.get(key);
    if (index === undefined) {
      index = prepared.pointX.push(x) - 1;
      prepared.pointT.push(t);
      slots.set(key, index);
    }
    return index;
  };
  for (const { xIndex, tx, T } of data.rows) {
    const x = data.xs[xIndex] ?? 0;
    prepared.rowTx.push(slot(x, tx));
    prepared.rowT.push(slot(x, T));
  }
  return prepared;
}

// Σ ln[Γ(r+x) α^r β^s / Γ(r)] per distinct x, then ln(alive + died) per row with log-sum-exp.
function preparedLogLikelihood(data: PreparedRows, params: ParetoNbdParams): number {
  const { r, alpha, s, beta } = params;
  const shared = r * Math.log(alpha) + s * Math.log(beta) - logGamma(r);
  let ll = 0;
  data.xs.forEach((x, i) => {
    ll += (data.xWeights[i] ?? 0) * (shared + logGamma(r + x));
  });
  // Tail terms by slot, computed on first use (rows on the near side never need theirs).
  const tails = new Float64Array(data.pointT.length).fill(Number.NaN);
  const tailAt = (slot: number): number => {
    let value = tails[slot] ?? Number.NaN;
    if (Number.isNaN(value)) tails[slot] = value = logTail(params, data.pointX[slot] ?? 0, data.pointT[slot] ?? 0);
    return value;
  };
  const logS = Math.log(s);
  data.rows.forEach(({ xIndex, tx, T, weight }, i) => {
    const x = data.xs[xIndex] ?? 0;
    let died: number;
    if (tx >= T) died = Number.NEGATIVE_INFINITY;
    else if (tailSeriesServes(params, tx)) died = logS + integralFromTails(tailAt(data.rowTx[i] ?? 0), tailAt(data.rowT[i] ?? 0), r + s + x);
    else died = logDiedPart(params, x, tx, T);
    ll += weight * logSumExp(logAlivePart(params, x, T), died);
  });
  return ll;
}

/** Sample log-likelihood (sum over customers) of Pareto/NBD at `params`. */
export function paretoNbdLogLikelihood({ params, customers }: { params: ParetoNbdParams; customers: readonly CountCustomer[] }): number {
  return preparedLogLikelihood(prepare(customers), params);
}

export type FitParetoNbdOptions = {
  customers: readonly CountCustomer[];
  /**
   * Starting point. The default is scaled to the data so that the time unit does not matter:
   * r = s = 1 and α = β = ΣT / Σx (the crude mean rate r/α equals the observed repeat rate).
   */
  start?: ParetoNbdParams;
  /**
   * A well-posed fit takes about 400 iterations in all (CDNOW). On a short history the likelihood
   * can rise without end along a ridge (s, β → ∞ together: no heterogeneity in dropout left to
   * see) where the simplex never shrinks; this cap ends such a fit as not converged, for the
   * guard to reject, in at most 4,000 iterations of the restarts together. Most such walks end
   * sooner: the search stops once the best point leaves the guard's box (1e-5 to 1e5).
   * @defaultValue 1000 per Nelder–Mead run
   */
  maxIterations?: number;
  /** Relative tolerance on the log-likelihood. @defaultValue 1e-12 */
  fTolerance?: number;
  /** Tolerance on the log-parameters (a relative tolerance on the parameters). @defaultValue 1e-9 */
  xTolerance?: number;
  /** Parameter bounds. @defaultValue 1e-8 and 1e8 */
  lowerBound?: number;
  upperBound?: number;
};

/**
 * Maximum-likelihood Pareto/NBD fit (Nelder–Mead on log-parameters, restarted until it stops
 * improving). Every row's likelihood costs a bounded number of series terms wherever the search
 * goes (logDiedIntegral), so a fit on data that pushes β or α towards its bound still finishes
 * (and the guard rejects it). A point where a series still fails (overflow, say) counts as
 * infeasible rather than aborting the fit.
 */
export function fitParetoNbd({ customers, start, maxIterations = 1000, ...options }: FitParetoNbdOptions): ParetoNbdFit {
  const data = prepare(customers);
  if (data.sampleSize === 0) throw new RangeError("fitParetoNbd: no customers");
  const scale = rateScaleStart(data);
  const initial = start ?? { r: 1, alpha: scale, s: 1, beta: scale };
  const result = minimizePositive({
    // A point the guard would reject ends the search: see maxIterations.
    abandonOutside: ACCEPTABLE_PARAMETERS,
    ...options,
    maxIterations,
    f: ([r = 1, alpha = 1, s = 1, beta = 1]) => {
      try {
        return -preparedLogLikelihood(data, { r, alpha, s, beta });
      } catch (error) {
        if (error instanceof RangeError) return Number.NaN;
        throw error;
      }
    },
    start: [initial.r, initial.alpha, initial.s, initial.beta],
  });
  const [r = Number.NaN, alpha = Number.NaN, s = Number.NaN, beta = Number.NaN] = result.point;
  return { r, alpha, s, beta, logLikelihood: -result.value, iterations: result.iterations, converged: result.converged, sampleSize: data.sampleSize };
}

export type ParetoNbdCustomerArgs = { params: ParetoNbdParams; x: number; tx: number; T: number };

/** P(alive | x, t_x, T): the "alive at T" share of the customer's likelihood. 1 at T = t_x. */
export function paretoNbdPAlive({ params, x, tx, T }: ParetoNbdCustomerArgs): number {
  const logOdds = logDiedPart(params, x, tx, T) - logAlivePart(params, x, T);
  return 1 / (1 + Math.exp(logOdds));
}

/**
 * [1 − (b / (b + t))^{s−1}] / (s − 1), the time integral of a gamma-mixed survival curve. With
 * s = 0.606 on CDNOW both factors are negative; near s = 1 the quotient is 0/0 and expm1 keeps it
 * exact, with the limit ln(1 + t / b) at s = 1.
 */
function survivalIntegral(s: number, b: number, t: number): number {
  const logGrowth = Math.log1p(t / b);
  if (s === 1) return logGrowth;
  return -Math.expm1(-(s - 1) * logGrowth) / (s - 1);
}

/** E[X(t)]: expected repeat purchases in (0, t] for a customer acquired at time 0. */
export function paretoNbdExpectedTransactions({ params: { r, alpha, s, beta }, t }: { params: ParetoNbdParams; t: number }): number {
  if (t <= 0) return nonNegativeHorizon(t, MODEL);
  return ((r * beta) / alpha) * survivalIntegral(s, beta, t);
}

/**
 * Expected purchases in the next t for a customer known to be alive at T: the rate's posterior
 * mean (r + x) / (α + T) times the expected remaining lifetime within t. Exported for the same
 * reason as BG/NBD's: predictive CLV needs it at several horizons and P(alive) only once.
 */
export function paretoNbdExpectedTransactionsIfAlive({ params: { r, alpha, s, beta }, x, T, t }: ParetoNbdCustomerArgs & { t: number }): number {
  if (t <= 0) return nonNegativeHorizon(t, MODEL);
  return ((r + x) / (alpha + T)) * (beta + T) * survivalIntegral(s, beta + T, t);
}

/** E[Y(t) | x, t_x, T]: expected purchases in the next t time units. */
export function paretoNbdConditionalExpectedTransactions(args: ParetoNbdCustomerArgs & { t: number }): number {
  return paretoNbdExpectedTransactionsIfAlive(args) * paretoNbdPAlive(args);
}

/**
 * The age T at which P(alive) falls to `threshold` if the customer, last seen buying at t_x, buys
 * nothing more. P(alive) is 1 at T = t_x and falls monotonically to 0 (the died part grows with T,
 * the alive part shrinks), so the root exists and is unique; unlike BG/NBD there is no closed form.
 * It is bracketed by doubling and found by the Illinois method (regula falsi that halves a stale
 * end's value) on the log-odds, smooth and increasing in T: about a dozen P(alive) evaluations to a
 * relative width of 1e-12, where bisection took about fifty; this runs for every repeat buyer an
 * event touches once Pareto/NBD is applied. Defined for x = 0 too. Returns the bracket's upper end:
 * P(alive) is at or below the threshold there.
 */
export function paretoNbdAgeAtPAliveThreshold({ params, x, tx, threshold }: { params: ParetoNbdParams; x: number; tx: number; threshold: number }): number {
  if (!(threshold > 0 && threshold < 1)) throw new RangeError(`threshold must be in (0, 1), got ${threshold}`);
  const target = Math.log((1 - threshold) / threshold);
  // Increasing in T, −∞ at T = t_x; the root is where P(alive) = threshold.
  const gap = (T: number): number => logDiedPart(params, x, tx, T) - logAlivePart(params, x, T) - target;
  let [low, gapLow] = [tx, Number.NEGATIVE_INFINITY];
  let step = Math.max(1, tx, Math.min(params.alpha, params.beta));
  let [high, gapHigh] = [tx + step, gap(tx + step)];
  while (gapHigh < 0) {
    [low, gapLow] = [high, gapHigh];
    step *= 2;
    high = tx + step;
    if (!Number.isFinite(high)) throw new RangeError(`${MODEL}: P(alive) never reaches ${threshold}`);
    gapHigh = gap(high);
  }
  let kept: "low" | "high" | undefined;
  for (let i = 0; i < 200 && high - low > 1e-12 * high; i++) {
    // Bisect while the lower end is at −∞ (T = t_x), else interpolate.
    let mid = Number.isFinite(gapLow) ? high - (gapHigh * (high - low)) / (gapHigh - gapLow) : (low + high) / 2;
    if (!(mid > low && mid < high)) mid = (low + high) / 2;
    const at = gap(mid);
    if (at >= 0) {
      [high, gapHigh] = [mid, at];
      if (kept === "low") gapLow /= 2;
      kept = "low";
    } else {
      [low, gapLow] = [mid, at];
      if (kept === "high") gapHigh /= 2;
      kept = "high";
    }
    if (at === 0) break;
  }
  return high;
}
