import { describe, expect, it } from "vitest";

import { fitBgNbd } from "./bgnbd.js";
import { judgeFit, type FitToJudge } from "./fit-guard.js";

// A fit like the CDNOW sample's BG/NBD (notes/clv-models.md 2(a)): accepted as it is.
const GOOD: FitToJudge = { params: { r: 0.2426, alpha: 4.4136, a: 0.7929, b: 2.4259 }, logLikelihood: -9582.43, converged: true, repeatBuyers: 946 };
const guard = { minRepeatBuyers: 30 };

describe("judgeFit", () => {
  it("accepts a converged fit with finite likelihood, parameters inside the bounds and enough repeat buyers", () => {
    expect(judgeFit(GOOD, guard)).toEqual({ accepted: true });
    expect(judgeFit({ ...GOOD, repeatBuyers: 30 }, guard)).toEqual({ accepted: true });
  });

  it("rejects each kind of bad fit with its reason", () => {
    const judge = (fit: Partial<FitToJudge>) => judgeFit({ ...GOOD, ...fit }, guard);
    expect(judge({ repeatBuyers: 29 })).toEqual({ accepted: false, reason: "too-few-repeat-buyers", detail: "29 repeat buyers, fewer than 30" });
    expect(judge({ logLikelihood: Number.NEGATIVE_INFINITY })).toMatchObject({ accepted: false, reason: "non-finite-log-likelihood" });
    expect(judge({ logLikelihood: Number.NaN })).toMatchObject({ accepted: false, reason: "non-finite-log-likelihood" });
    expect(judge({ converged: false })).toMatchObject({ accepted: false, reason: "not-converged" });
    expect(judge({ params: { ...GOOD.params, r: 3e-8 } })).toMatchObject({ accepted: false, reason: "parameter-at-bound", detail: expect.stringContaining("r = 3e-8") });
    expect(judge({ params: { ...GOOD.params, b: 9.9e7 } })).toMatchObject({ accepted: false, reason: "parameter-at-bound", detail: expect.stringContaining("upper bound") });
    expect(judge({ params: { ...GOOD.params, alpha: Number.NaN } })).toMatchObject({ accepted: false, reason: "parameter-at-bound" });
  });

  it("puts the root cause first: too few repeat buyers before the symptoms it causes", () => {
    const degenerate = { params: { r: 1e-8, alpha: 1e8, a: 1, b: 1 }, logLikelihood: Number.NaN, converged: false, repeatBuyers: 0 };
    expect(judgeFit(degenerate, guard)).toMatchObject({ reason: "too-few-repeat-buyers" });
    expect(judgeFit({ ...degenerate, repeatBuyers: 100 }, guard)).toMatchObject({ reason: "non-finite-log-likelihood" });
    expect(judgeFit({ ...degenerate, repeatBuyers: 100, logLikelihood: -10 }, guard)).toMatchObject({ reason: "parameter-at-bound" });
  });

  it("takes the bounds and the margin from the caller", () => {
    expect(judgeFit({ ...GOOD, params: { r: 0.5 } }, { ...guard, lowerBound: 0.1, boundFactor: 10 })).toMatchObject({ reason: "parameter-at-bound" });
    expect(judgeFit({ ...GOOD, params: { r: 1.5 } }, { ...guard, lowerBound: 0.1, boundFactor: 10 })).toEqual({ accepted: true });
  });

  it("rejects the real BG/NBD fit of a base where nobody bought twice: its parameters run off to a bound", () => {
    const oneTimers = Array.from({ length: 500 }, (_, i) => ({ x: 0, tx: 0, T: 10 + (i % 30) }));
    const fit = fitBgNbd({ customers: oneTimers });
    // Even with the repeat-buyer minimum off, the fit itself gives it away.
    expect(judgeFit({ params: { r: fit.r, alpha: fit.alpha, a: fit.a, b: fit.b }, logLikelihood: fit.logLikelihood, converged: fit.converged, repeatBuyers: 0 }, { minRepeatBuyers: 0 })).toMatchObject({
      accepted: false,
      reason: "parameter-at-bound",
    });
  });
});
