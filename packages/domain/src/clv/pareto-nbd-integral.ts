// The Pareto/NBD likelihood's "died" integral ∫ (α+τ)^{−(r+x)} (β+τ)^{−(s+1)} dτ over (t_x, T],
// in logs, exact and at a bounded cost wherever a fit's search goes: a ₂F₁ tail series where α and
// β are of a size, a series in v = (m_s + τ)/(m_l + τ) where one is far larger, and quadrature in
// the band between. Split from pareto-nbd.ts because it is the one numerically delicate part.

import { logHyp2f1, logSumExp } from "./special.js";

/** The parameters the integral needs (ParetoNbdParams). */
export type IntegralParams = { r: number; alpha: number; s: number; beta: number };

/**
 * ln of the tail term ₂F₁(r+s+x, ·; r+s+x+1; z(t)) / (m + t)^{r+s+x} of note 008's A₀, where m is
 * the larger of α and β: (r+s+x) times ∫_t^∞ (α+τ)^{−(r+x)} (β+τ)^{−(s+1)} dτ. Taking the larger
 * keeps z = |α − β| / (m + t) in [0, 1), where the series converges; α = β gives z = 0 from either
 * side, so the two branches meet continuously. Both the ₂F₁ (for x in the hundreds) and the power
 * can leave the range of a double, so both stay in logs. The series needs about 37 / (1 − z)
 * terms: fast while α and β are of a size, hopeless when one is thousands of times the other
 * (which a fit on a few customers who never seem to leave walks into: β → ∞), see logNearIntegral.
 */
export function logTail({ r, alpha, s, beta }: IntegralParams, x: number, t: number): number {
  const a = r + s + x;
  const m = alpha >= beta ? alpha : beta;
  const b = alpha >= beta ? s + 1 : r + x;
  const z = Math.abs(alpha - beta) / (m + t);
  return logHyp2f1({ a, b, c: a + 1, z }) - a * Math.log(m + t);
}

/** ln ∫_{t0}^{t1} (α+τ)^{−(r+x)} (β+τ)^{−(s+1)} dτ from the tail terms (their difference), t0 < t1. */
function logTailDifference(params: IntegralParams, x: number, t0: number, t1: number): number {
  return integralFromTails(logTail(params, x, t0), logTail(params, x, t1), params.r + params.s + x);
}

/** The integral over [t0, t1] from the tail terms at its ends; `a` = r+s+x (a tail term is a times the tail integral). */
export function integralFromTails(at0: number, at1: number, a: number): number {
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
function logNearIntegral({ r, alpha, s, beta }: IntegralParams, x: number, t0: number, t1: number): number {
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
    // With c·v ≤ 1 the terms shrink from the first (|w_k v^k| ≤ (c·v)^k / k!), so the first
    // negligible one ends the sum; s in the hundreds (a fit on a short history) makes c large.
    if (Math.abs(term) <= 1e-17 * Math.abs(sum)) {
      if (!(sum > 0)) throw new RangeError(`Pareto/NBD: near-side series is not positive (sum ${sum})`);
      return -(r + s + x) * Math.log(large - small) + logFirst + Math.log(sum);
    }
  }
  throw new RangeError(`Pareto/NBD: near-side series did not converge for x=${x} t0=${t0} t1=${t1}`);
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
 * ln ∫_{tx}^{T} (α+τ)^{−(r+x)} (β+τ)^{−(s+1)} dτ, by whichever method is exact and cheap where:
 * the tail series where v(τ) = (m_s + τ)/(m_l + τ) ≥ 1/50 (α and β of a size), the near-side
 * series where v ≤ min(1/50, 1/c), and Gauss–Legendre quadrature in the band between (only when
 * c = r+s+x−1 > 50: a heavy buyer, or s in the hundreds on a short history), with [tx, T] split
 * where v crosses those limits. Each is exact to about 1e-14 and costs at most a few thousand
 * operations per row, wherever the fit's search goes.
 */
export function logDiedIntegral(params: IntegralParams, x: number, tx: number, T: number): number {
  if (tailSeriesServes(params, tx)) return logTailDifference(params, x, tx, T);
  const { r, alpha, s, beta } = params;
  const small = Math.min(alpha, beta);
  const large = Math.max(alpha, beta);
  // The τ where v reaches each limit (v rises with τ from v(0) = small/large towards 1).
  const nearLimit = nearSideLimit(r + s + x - 1);
  const nearEnd = Math.min(T, Math.max(tx, (nearLimit * large - small) / (1 - nearLimit)));
  const bandEnd = Math.min(T, Math.max(tx, (NEAR_SIDE_LIMIT * large - small) / (1 - NEAR_SIDE_LIMIT)));
  let total = Number.NEGATIVE_INFINITY;
  if (nearEnd > tx) total = logNearIntegral(params, x, tx, nearEnd);
  if (bandEnd > nearEnd) total = logSumExp(total, logQuadratureIntegral(params, x, nearEnd, bandEnd));
  if (T > bandEnd) total = logSumExp(total, logTailDifference(params, x, bandEnd, T));
  return total;
}

// Panels of the quadrature before the point counts as infeasible (a RangeError: the fit treats it as +∞).
const QUADRATURE_MAX_PANELS = 10_000;
// A panel spans at most this change of ln integrand in w: 16-point Gauss–Legendre integrates
// e^{aw} over a panel with |a|·width ≤ 6 to about 1e-29 (the error term's (aL)^33 / 3·10^54).
const QUADRATURE_PANEL_SLOPE = 6;

/**
 * ln ∫_{t0}^{t1} (α+τ)^{−(r+x)} (β+τ)^{−(s+1)} dτ by composite 16-point Gauss–Legendre in
 * w = ln(m_s + τ), where the integrand is e^{φ(w)} with φ(w) = (1 − e)·w − e_l·ln(m_l − m_s + e^w)
 * (e, e_l the exponents on the small and large scale's factors): φ is smooth and its slope
 * φ'(w) = 1 − e − e_l·v falls monotonically, so the slopes at the ends bound it and decide the
 * panels. Everything is summed in logs.
 */
function logQuadratureIntegral({ r, alpha, s, beta }: IntegralParams, x: number, t0: number, t1: number): number {
  const small = Math.min(alpha, beta);
  const large = Math.max(alpha, beta);
  const e = alpha < beta ? r + x : s + 1;
  const eLarge = alpha < beta ? s + 1 : r + x;
  const gap = large - small;
  const w0 = Math.log(small + t0);
  const w1 = Math.log(small + t1);
  // φ'(w) = 1 − e − e_l·v at the two ends (v = e^w / (gap + e^w)).
  const steepest = Math.max(Math.abs(1 - e - (eLarge * (small + t0)) / (large + t0)), Math.abs(1 - e - (eLarge * (small + t1)) / (large + t1)));
  const panels = Math.max(1, Math.ceil((steepest * (w1 - w0)) / QUADRATURE_PANEL_SLOPE));
  if (panels > QUADRATURE_MAX_PANELS) throw new RangeError(`Pareto/NBD: quadrature needs ${panels} panels for x=${x} on [${t0}, ${t1}]`);
  const width = (w1 - w0) / panels;
  let total = Number.NEGATIVE_INFINITY;
  for (let panel = 0; panel < panels; panel++) {
    const mid = w0 + (panel + 0.5) * width;
    for (const { node, logWeight } of GAUSS_LEGENDRE_16) {
      const w = mid + (node * width) / 2;
      total = logSumExp(total, logWeight + (1 - e) * w - eLarge * Math.log(gap + Math.exp(w)));
    }
  }
  return total + Math.log(width / 2);
}

/** 16-point Gauss–Legendre nodes on [−1, 1] and the logs of their weights (Newton on P₁₆, at load). */
const GAUSS_LEGENDRE_16: readonly { node: number; logWeight: number }[] = gaussLegendre(16);

function gaussLegendre(n: number): { node: number; logWeight: number }[] {
  const points: { node: number; logWeight: number }[] = [];
  for (let i = 1; i <= n; i++) {
    let x = Math.cos((Math.PI * (i - 0.25)) / (n + 0.5));
    let derivative = 1;
    for (let step = 0; step < 100; step++) {
      // P_n(x) and P_n'(x) by the three-term recurrence.
      let [p0, p1] = [1, x];
      for (let k = 2; k <= n; k++) [p0, p1] = [p1, ((2 * k - 1) * x * p1 - (k - 1) * p0) / k];
      derivative = (n * (x * p1 - p0)) / (x * x - 1);
      const dx = p1 / derivative;
      x -= dx;
      if (Math.abs(dx) < 1e-16) break;
    }
    points.push({ node: x, logWeight: Math.log(2 / ((1 - x * x) * derivative * derivative)) });
  }
  return points;
}

/** The v below which the near-side series is used; c = r+s+x−1. */
const nearSideLimit = (c: number): number => Math.min(NEAR_SIDE_LIMIT, 1 / Math.max(1, c));

/** Whether the tail series serves all of [t, ∞): v(t) ≥ 1/50, where it takes at most about 1,850 terms (always when α = β). */
export function tailSeriesServes({ alpha, beta }: IntegralParams, t: number): boolean {
  if (alpha === beta) return true;
  return (Math.min(alpha, beta) + t) / (Math.max(alpha, beta) + t) >= NEAR_SIDE_LIMIT;
}

