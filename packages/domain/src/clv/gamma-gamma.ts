// Gamma-Gamma spend model (Fader & Hardie 2013, note 025; FHL 2005 JMR): each transaction's value
// is Gamma(p, ν) and ν is Gamma(q, γ) across customers, independent of the purchase process.
// Formulas and published checks: notes/clv-models.md sections 2(c) and 4.

import { minimizePositive } from "./nelder-mead.js";
import { logGamma } from "./special.js";

export type GammaGammaParams = { p: number; q: number; gamma: number };

/** x repeat transactions with mean value z̄ (see rfmSummary). `weight` counts identical customers. */
export type GammaGammaCustomer = { x: number; zbar: number; weight?: number };

export type GammaGammaFit = GammaGammaParams & {
  /** Sample log-likelihood in the z̄-density convention (see gammaGammaLogLikelihood). */
  logLikelihood: number;
  iterations: number;
  converged: boolean;
  /** Customers used: those with x ≥ 1 and z̄ > 0. */
  sampleSize: number;
};

// The model is a density for z̄ > 0 over x ≥ 1 transactions: customers with no repeat purchase
// carry no spend information, and a z̄ of 0 (CDNOW has $0.00 rows) has zero density, so either
// would turn the likelihood into −∞ or nonsense. Both are left out (notes pitfall 7).
function usable(customers: readonly GammaGammaCustomer[]): GammaGammaCustomer[] {
  return customers.filter(({ x, zbar, weight = 1 }) => x >= 1 && zbar > 0 && Number.isFinite(zbar) && weight > 0);
}

/**
 * Sample log-likelihood, in ONE convention: the density of the mean spend z̄ (note 025 eq. 1a,
 * lifetimes), whose terms carry x^{px}:
 *   ln Γ(px+q) − ln Γ(px) − ln Γ(q) + q ln γ + (px − 1) ln z̄ + px ln x − (px + q) ln(γ + x z̄).
 * On CDNOW this is −4055.92 at (6.25, 3.74, 15.44). The JMR paper's −4659 is the density of total
 * spend x·z̄, which is lower by exactly Σ ln x; it has the same maximiser.
 * Customers with x = 0 or z̄ <= 0 are skipped.
 */
export function gammaGammaLogLikelihood({
  params,
  customers,
}: {
  params: GammaGammaParams;
  customers: readonly GammaGammaCustomer[];
}): number {
  return preparedLogLikelihood(usable(customers), params);
}

function preparedLogLikelihood(customers: readonly GammaGammaCustomer[], { p, q, gamma }: GammaGammaParams): number {
  const shared = q * Math.log(gamma) - logGamma(q);
  // The Γ terms depend on x only; cache them per x (there are few distinct x, many customers).
  const logGammaRatio = new Map<number, number>();
  let ll = 0;
  for (const { x, zbar, weight = 1 } of customers) {
    const px = p * x;
    let ratio = logGammaRatio.get(x);
    if (ratio === undefined) {
      ratio = logGamma(px + q) - logGamma(px) + px * Math.log(x);
      logGammaRatio.set(x, ratio);
    }
    ll += weight * (shared + ratio + (px - 1) * Math.log(zbar) - (px + q) * Math.log(gamma + x * zbar));
  }
  return ll;
}

export type FitGammaGammaOptions = {
  customers: readonly GammaGammaCustomer[];
  /**
   * Starting point. The default is scaled to the data so the currency unit does not matter:
   * p = 1, q = 2, γ = mean z̄ (so the implied population mean pγ/(q−1) starts at the observed mean).
   */
  start?: GammaGammaParams;
  /** @defaultValue 5000 per Nelder–Mead run */
  maxIterations?: number;
  /** @defaultValue 1e-12 */
  fTolerance?: number;
  /** @defaultValue 1e-9 */
  xTolerance?: number;
  /** @defaultValue 1e-8 and 1e8 */
  lowerBound?: number;
  upperBound?: number;
};

/** Maximum-likelihood fit on the customers with x ≥ 1 and z̄ > 0 (others are ignored). */
export function fitGammaGamma({ customers, start, ...options }: FitGammaGammaOptions): GammaGammaFit {
  const data = usable(customers);
  let sampleSize = 0;
  let spend = 0;
  for (const { zbar, weight = 1 } of data) {
    sampleSize += weight;
    spend += weight * zbar;
  }
  if (sampleSize === 0) throw new RangeError("fitGammaGamma: no customer with x >= 1 and zbar > 0");
  const initial = start ?? { p: 1, q: 2, gamma: spend / sampleSize };
  const result = minimizePositive({
    ...options,
    f: ([p = 1, q = 1, gamma = 1]) => -preparedLogLikelihood(data, { p, q, gamma }),
    start: [initial.p, initial.q, initial.gamma],
  });
  const [p = Number.NaN, q = Number.NaN, gamma = Number.NaN] = result.point;
  return { p, q, gamma, logLikelihood: -result.value, iterations: result.iterations, converged: result.converged, sampleSize };
}

/**
 * E(Z | z̄, x) = p(γ + x z̄) / (px + q − 1): a weighted average of the population mean and the
 * customer's own z̄. For x = 0 it is the population mean. Infinite when px + q <= 1.
 */
export function conditionalExpectedSpend({ params: { p, q, gamma }, x, zbar }: { params: GammaGammaParams; x: number; zbar: number }): number {
  const denominator = p * x + q - 1;
  return denominator > 0 ? (p * (gamma + x * zbar)) / denominator : Number.POSITIVE_INFINITY;
}

/** E(Z) = pγ / (q − 1), the expected spend per transaction of a new customer; infinite when q <= 1. */
export function populationMeanSpend({ params: { p, q, gamma } }: { params: GammaGammaParams }): number {
  return q > 1 ? (p * gamma) / (q - 1) : Number.POSITIVE_INFINITY;
}
