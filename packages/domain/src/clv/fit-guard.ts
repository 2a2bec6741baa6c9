// Whether a fitted population model may be applied. One bad fit re-evaluates every customer and
// can set off a wave of at-risk changes and win-back mail (issue 13), so a fit that the optimiser
// did not finish, that has no finite likelihood, that ran off to the edge of the parameter space,
// or that rests on too few repeat buyers is rejected, and the previous model stays.

import { POSITIVE_LOWER_BOUND, POSITIVE_UPPER_BOUND } from "./nelder-mead.js";

export type FitRejectionReason = "too-few-repeat-buyers" | "non-finite-log-likelihood" | "parameter-at-bound" | "not-converged";

/** What the guard needs of a fit: any model's parameters, so BG/NBD, Gamma-Gamma and others share it. */
export type FitToJudge = {
  params: Readonly<Record<string, number>>;
  logLikelihood: number;
  converged: boolean;
  /** Customers with at least one repeat purchase in the data the model was fitted on. */
  repeatBuyers: number;
};

export type FitGuard = {
  /** Fewer repeat buyers than this and the fit is rejected: the repeat process is barely observed. */
  minRepeatBuyers: number;
  /** The optimiser's bounds (minimizePositive's). @defaultValue 1e-8 and 1e8 */
  lowerBound?: number;
  upperBound?: number;
  /**
   * A parameter within this factor of a bound is "at" it. The optimiser only approaches a bound
   * (beyond it the objective is +∞), and a likelihood that keeps improving towards 0 or ∞ stops
   * anywhere in the last few decades: 1e3 with the default bounds rejects below 1e-5 and above 1e5,
   * far outside any CDNOW-like fit (in weeks and currency units). @defaultValue 1000
   */
  boundFactor?: number;
};

/** The guard's default factor, and the box inside which a fit's parameters are not "at a bound". */
export const DEFAULT_BOUND_FACTOR = 1e3;
export const ACCEPTABLE_PARAMETERS = { lower: POSITIVE_LOWER_BOUND * DEFAULT_BOUND_FACTOR, upper: POSITIVE_UPPER_BOUND / DEFAULT_BOUND_FACTOR };

export type FitJudgement = { accepted: true } | { accepted: false; reason: FitRejectionReason; detail: string };

/**
 * Judges a fit. The first failed check is the reason, in the order that explains most: too few
 * repeat buyers (the cause of most degenerate fits), a non-finite log-likelihood, a parameter at a
 * bound or not finite, and last an optimiser that stopped before converging.
 */
export function judgeFit(fit: FitToJudge, guard: FitGuard): FitJudgement {
  const { minRepeatBuyers, lowerBound = POSITIVE_LOWER_BOUND, upperBound = POSITIVE_UPPER_BOUND, boundFactor = DEFAULT_BOUND_FACTOR } = guard;
  if (fit.repeatBuyers < minRepeatBuyers) {
    return reject("too-few-repeat-buyers", `${fit.repeatBuyers} repeat buyers, fewer than ${minRepeatBuyers}`);
  }
  if (!Number.isFinite(fit.logLikelihood)) return reject("non-finite-log-likelihood", `log-likelihood ${fit.logLikelihood}`);
  for (const [name, value] of Object.entries(fit.params)) {
    if (!Number.isFinite(value)) return reject("parameter-at-bound", `${name} = ${value}`);
    if (value <= lowerBound * boundFactor) return reject("parameter-at-bound", `${name} = ${value}, at the lower bound ${lowerBound}`);
    if (value >= upperBound / boundFactor) return reject("parameter-at-bound", `${name} = ${value}, at the upper bound ${upperBound}`);
  }
  if (!fit.converged) return reject("not-converged", "the optimiser stopped before converging");
  return { accepted: true };
}

function reject(reason: FitRejectionReason, detail: string): FitJudgement {
  return { accepted: false, reason, detail };
}
