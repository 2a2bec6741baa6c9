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
 * the larger of α and β. Taking the larger keeps z = |α − β| / (m + t) in [0, 1), where the series
 * converges; α = β gives z = 0 from either side, so the two branches meet continuously. Both the
 * ₂F₁ (for x in the hundreds) and the power can leave the range of a double, so both stay in logs.
 */
function logTail({ r, alpha, s, beta }: ParetoNbdParams, x: number, t: number): number {
  const a = r + s + x;
  const [m, b] = alpha >= beta ? [alpha, s + 1] : [beta, r + x];
  const z = Math.abs(alpha - beta) / (m + t);
  return logHyp2f1({ a, b, c: a + 1, z }) - a * Math.log(m + t);
}

/**
 * ln[(s / (r+s+x)) · A₀]: the likelihood's "died in (t_x, T]" part, up to the factor shared with
 * the "alive at T" part. A₀ is the difference of the tail terms at t_x and T (it is the integral
 * of a positive density over (t_x, T], so the t_x term is the larger); −∞ when t_x = T.
 */
function logDiedPart(params: ParetoNbdParams, x: number, tx: number, T: number): number {
  if (tx >= T) return Number.NEGATIVE_INFINITY;
  const atTx = logTail(params, x, tx);
  const atT = logTail(params, x, T);
  // Rounding can put the two within an ulp in the wrong order when t_x is very close to T.
  if (atT >= atTx) return Number.NEGATIVE_INFINITY;
  const { r, s } = params;
  return Math.log(s) - Math.log(r + s + x) + atTx + Math.log1p(-Math.exp(atT - atTx));
}

/** ln[(α+T)^{−(r+x)} (β+T)^{−s}]: the "still alive at T" part. */
function logAlivePart({ r, alpha, s, beta }: ParetoNbdParams, x: number, T: number): number {
  return -(r + x) * Math.log(alpha + T) - s * Math.log(beta + T);
}

// Σ ln[Γ(r+x) α^r β^s / Γ(r)] per distinct x, then ln(alive + died) per row with log-sum-exp.
function preparedLogLikelihood(data: CustomerRows, params: ParetoNbdParams): number {
  const { r, alpha, s, beta } = params;
  const shared = r * Math.log(alpha) + s * Math.log(beta) - logGamma(r);
  let ll = 0;
  data.xs.forEach((x, i) => {
    ll += (data.xWeights[i] ?? 0) * (shared + logGamma(r + x));
  });
  for (const { xIndex, tx, T, weight } of data.rows) {
    const x = data.xs[xIndex] ?? 0;
    ll += weight * logSumExp(logAlivePart(params, x, T), logDiedPart(params, x, tx, T));
  }
  return ll;
}

/** Sample log-likelihood (sum over customers) of Pareto/NBD at `params`. */
export function paretoNbdLogLikelihood({ params, customers }: { params: ParetoNbdParams; customers: readonly CountCustomer[] }): number {
  return preparedLogLikelihood(groupCustomers(customers, MODEL), params);
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
 * improving). A point where a ₂F₁ series cannot be summed (|α − β| so large against min(α, β) that
 * z is within about 1e-5 of 1) counts as infeasible rather than aborting the fit.
 */
export function fitParetoNbd({ customers, start, ...options }: FitParetoNbdOptions): ParetoNbdFit {
  const data = groupCustomers(customers, MODEL);
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
