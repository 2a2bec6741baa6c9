// Pareto/NBD (Schmittlein, Morrison & Colombo 1987), in the form of Fader & Hardie's note 008: the
// likelihood, its fit, P(alive), E[X(t)] and E[Y(t) | x, t_x, T]. BG/NBD's sibling: customers
// may drop out at any time (not only right after a purchase), so P(alive) < 1 even when x = 0.
// Formulas and published checks: notes/clv-models.md sections 2(b) and 4.

import { groupCustomers, nonNegativeHorizon, rateScaleStart, type CountCustomer, type CustomerRows } from "./customer-rows.js";
import { minimizePositive } from "./nelder-mead.js";
import { logGamma, logHyp2f1, logSumExp } from "./special.js";

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
 * ln of the tail term ₂F₁(r+s+x, ·; r+s+x+1; z(t)) / (m + t)^{r+s+x} of note 008's A₀, where m is
 * the larger of α and β: (r+s+x) times ∫_t^∞ (α+τ)^{−(r+x)} (β+τ)^{−(s+1)} dτ. Taking the larger
 * keeps z = |α − β| / (m + t) in [0, 1), where the series converges; α = β gives z = 0 from either
 * side, so the two branches meet continuously. Both the ₂F₁ (for x in the hundreds) and the power
 * can leave the range of a double, so both stay in logs. The series needs about 37 / (1 − z)
 * terms: fast while α and β are of a size, hopeless when one is thousands of times the other
 * (which a fit on a few customers who never seem to leave walks into: β → ∞), see logNearIntegral.
 */
function logTail({ r, alpha, s, beta }: ParetoNbdParams, x: number, t: number): number {
  const a = r + s + x;
  const m = alpha >= beta ? alpha : beta;
  const b = alpha >= beta ? s + 1 : r + x;
  const z = Math.abs(alpha - beta) / (m + t);
  return logHyp2f1({ a, b, c: a + 1, z }) - a * Math.log(m + t);
}

/** ln ∫_{t0}^{t1} (α+τ)^{−(r+x)} (β+τ)^{−(s+1)} dτ from the tail terms (their difference), t0 < t1. */
function logTailDifference(params: ParetoNbdParams, x: number, t0: number, t1: number): number {
  return integralFromTails(logTail(params, x, t0), logTail(params, x, t1), params.r + params.s + x);
}

/** The integral over [t0, t1] from the tail terms at its ends; `a` = r+s+x (a tail term is a times the tail integral). */
function integralFromTails(at0: number, at1: number, a: number): number {
  // Rounding can put the two within an ulp in the wrong order when t0 is very close to t1.
  if (at1 >= at0) return Number.NEGATIVE_INFINITY;
  return at0 + Math.log1p(-Math.exp(at1 - at0)) - Math.log(a);
}

// Terms of the near-side series before it counts as not converging (it converges geometrically
// at a rate of at most NEAR_SIDE_LIMIT, so this only trips on NaN-like inputs).
const NEAR_SERIES_MAX_TERMS = 10_000;

/**
 * ln ∫_{t0}^{t1} (α+τ)^{−(r+x)} (β+τ)^{−(s+1)} dτ where v(τ) = (m_s + τ) / (m_l + τ) is small
 * (m_s, m_l the smaller and larger of α, β; e the exponent on the smaller one's factor). With
 * v as the variable the integral is (m_l − m_s)^{−(r+s+x)} ∫ v^{−e} (1 − v)^{c} dv, c = r+s+x−1;
 * expanding (1 − v)^c = Σ w_k v^k integrates term by term to Σ w_k [v^{k+1−e} / (k+1−e)] between
 * the limits, which converges like v^k: exactly where the tail series is slow. Each bracket is
 * kept as v₀^ε · expm1(ε ln(v₁/v₀)) / ε, exact also as ε = k+1−e passes 0 (where it is ln(v₁/v₀)).
 * The caller keeps c·v ≤ 1, so the alternating terms cancel by at most a factor of e².
 */
function logNearIntegral({ r, alpha, s, beta }: ParetoNbdParams, x: number, t0: number, t1: number): number {
  const small = Math.min(alpha, beta);
  const large = Math.max(alpha, beta);
  const e = alpha < beta ? r + x : s + 1;
  const c = r + s + x - 1;
  const logV0 = Math.log(small + t0) - Math.log(large + t0);
  const span = Math.log(small + t1) - Math.log(large + t1) - logV0;
  // ln of the k-th bracket is (k+1−e)·ln v₀ + logExpm1Ratio(k+1−e, span). (Inline, not a closure:
  // this runs per row and per likelihood evaluation.)
  const logFirst = (1 - e) * logV0 + logExpm1Ratio(1 - e, span);
  let weight = 1;
  let sum = 1;
  for (let k = 1; k < NEAR_SERIES_MAX_TERMS; k++) {
    weight *= (k - 1 - c) / k;
    const epsilon = k + 1 - e;
    const term = weight * Math.exp(epsilon * logV0 + logExpm1Ratio(epsilon, span) - logFirst);
    sum += term;
    if (k > c + 1 && Math.abs(term) <= 1e-17 * Math.abs(sum)) {
      if (!(sum > 0)) throw new RangeError(`${MODEL}: near-side series is not positive (sum ${sum})`);
      return -(r + s + x) * Math.log(large - small) + logFirst + Math.log(sum);
    }
  }
  throw new RangeError(`${MODEL}: near-side series did not converge for x=${x} t0=${t0} t1=${t1}`);
}

/** ln[(e^{εℓ} − 1) / ε] for ℓ > 0: the integral of v^{ε−1} over a log-width ℓ, from 1. ln ℓ at ε = 0. */
function logExpm1Ratio(epsilon: number, span: number): number {
  if (epsilon === 0) return Math.log(span);
  const y = epsilon * span;
  if (y > 1) return y + Math.log1p(-Math.exp(-y)) - Math.log(epsilon);
  if (y > 0) return Math.log(Math.expm1(y)) - Math.log(epsilon);
  return Math.log(-Math.expm1(y)) - Math.log(-epsilon);
}

/**
 * Where the near-side series takes over: v ≤ 1/50 (and c·v ≤ 1). A tail-series term is a few
 * multiplications, a near-side term an exp and a log or two (about 20 times as dear), so the tail
 * series keeps every row it can sum in a few thousand terms (about 37 / v), and the near side,
 * converging like v^k, needs about ten.
 */
const NEAR_SIDE_LIMIT = 0.02;

/**
 * ln ∫_{tx}^{T} (α+τ)^{−(r+x)} (β+τ)^{−(s+1)} dτ, by whichever series converges fast: the tail
 * series where v(τ) = (m_s + τ)/(m_l + τ) is large (α and β of a size), the near-side series
 * where it is small, split at the τ where v crosses the limit. Either alone is exact to about
 * 1e-15; the split only decides how many terms it takes (at most about 37 / limit per tail term).
 */
function logDiedIntegral(params: ParetoNbdParams, x: number, tx: number, T: number): number {
  if (tailSeriesServes(params, x, tx)) return logTailDifference(params, x, tx, T);
  const { r, alpha, s, beta } = params;
  const small = Math.min(alpha, beta);
  const large = Math.max(alpha, beta);
  const limit = nearSideLimit(r + s + x - 1);
  if ((small + T) / (large + T) <= limit) return logNearIntegral(params, x, tx, T);
  // v(split) = limit; v rises with τ, so tx < split < T.
  const split = (limit * large - small) / (1 - limit);
  return logSumExp(logNearIntegral(params, x, tx, split), logTailDifference(params, x, split, T));
}

/** The v below which the near-side series is used; c = r+s+x−1. */
const nearSideLimit = (c: number): number => Math.min(NEAR_SIDE_LIMIT, 1 / Math.max(1, c));

/** Whether the tail series serves all of [t, ∞) for this x: v(t) at or above the near-side limit (always when α = β). */
function tailSeriesServes({ r, alpha, s, beta }: ParetoNbdParams, x: number, t: number): boolean {
  if (alpha === beta) return true;
  return (Math.min(alpha, beta) + t) / (Math.max(alpha, beta) + t) >= nearSideLimit(r + s + x - 1);
}

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
    else if (tailSeriesServes(params, x, tx)) died = logS + integralFromTails(tailAt(data.rowTx[i] ?? 0), tailAt(data.rowT[i] ?? 0), r + s + x);
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

/**
 * Maximum-likelihood Pareto/NBD fit (Nelder–Mead on log-parameters, restarted until it stops
 * improving). Every row's likelihood costs a bounded number of series terms wherever the search
 * goes (logDiedIntegral), so a fit on data that pushes β or α towards its bound still finishes
 * (and the guard rejects it). A point where a series still fails (overflow, say) counts as
 * infeasible rather than aborting the fit.
 */
export function fitParetoNbd({ customers, start, ...options }: FitParetoNbdOptions): ParetoNbdFit {
  const data = prepare(customers);
  if (data.sampleSize === 0) throw new RangeError("fitParetoNbd: no customers");
  const scale = rateScaleStart(data);
  const initial = start ?? { r: 1, alpha: scale, s: 1, beta: scale };
  const result = minimizePositive({
    ...options,
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
 * the alive part shrinks), so the root exists and is unique; unlike BG/NBD there is no closed form,
 * so it is bracketed by doubling and bisected to a relative width of 1e-12. Defined for x = 0 too.
 */
export function paretoNbdAgeAtPAliveThreshold({ params, x, tx, threshold }: { params: ParetoNbdParams; x: number; tx: number; threshold: number }): number {
  if (!(threshold > 0 && threshold < 1)) throw new RangeError(`threshold must be in (0, 1), got ${threshold}`);
  const below = (T: number): boolean => paretoNbdPAlive({ params, x, tx, T }) <= threshold;
  let low = tx;
  let step = Math.max(1, tx, Math.min(params.alpha, params.beta));
  let high = tx + step;
  while (!below(high)) {
    low = high;
    step *= 2;
    high = tx + step;
    if (!Number.isFinite(high)) throw new RangeError(`${MODEL}: P(alive) never reaches ${threshold}`);
  }
  while (high - low > 1e-12 * high) {
    const mid = (low + high) / 2;
    if (mid <= low || mid >= high) break;
    if (below(mid)) high = mid;
    else low = mid;
  }
  return high;
}
