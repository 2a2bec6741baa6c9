import { describe, expect, it } from "vitest";

import { loadCdnowSample } from "./cdnow-fixture.test-support.js";
import {
  conditionalExpectedSpend,
  fitGammaGamma,
  gammaGammaLogLikelihood,
  populationMeanSpend,
  type GammaGammaParams,
} from "./gamma-gamma.js";

// Published numbers: notes/clv-models.md section 2(c).
const PUBLISHED: GammaGammaParams = { p: 6.25, q: 3.74, gamma: 15.44 };
const PARAM_KEYS: (keyof GammaGammaParams)[] = ["p", "q", "gamma"];
const relativeError = (actual: number, expected: number): number => Math.abs(actual / expected - 1);

describe("Gamma-Gamma on the CDNOW sample", () => {
  const sample = loadCdnowSample();
  const repeaters = sample.filter((c) => c.x >= 1);
  const fit = fitGammaGamma({ customers: sample });

  it("uses the 946 repeat buyers, whose z̄ has mean $35.08, min $2.99, max $299.63", () => {
    expect(repeaters).toHaveLength(946);
    expect(repeaters.reduce((sum, c) => sum + c.zbar, 0) / 946).toBeCloseTo(35.078, 3);
    expect(Math.min(...repeaters.map((c) => c.zbar))).toBeCloseTo(2.99, 6);
    expect(Math.max(...repeaters.map((c) => c.zbar))).toBeCloseTo(299.63, 2);
  });

  it("reproduces p 6.25, q 3.74, γ 15.44 within 1%", () => {
    expect(fit.converged).toBe(true);
    expect(fit.sampleSize).toBe(946);
    for (const key of PARAM_KEYS) {
      expect(relativeError(fit[key], PUBLISHED[key]), key).toBeLessThan(0.01);
    }
    // Our full-precision MLE (6.24958, 3.74422, 15.44351), LL −4055.918 in the z̄ convention.
    expect(fit.p).toBeCloseTo(6.24958, 3);
    expect(fit.q).toBeCloseTo(3.74422, 3);
    expect(fit.gamma).toBeCloseTo(15.44351, 2);
    expect(fit.logLikelihood).toBeCloseTo(-4055.918, 2);
  });

  it("computes the log-likelihood as the z̄ density: −4055.919, which is the JMR total-spend −4659.29 plus Σ ln x", () => {
    const ll = gammaGammaLogLikelihood({ params: PUBLISHED, customers: sample });
    expect(ll).toBeCloseTo(-4055.919, 3);
    const sumLogX = repeaters.reduce((sum, c) => sum + Math.log(c.x), 0);
    expect(sumLogX).toBeCloseTo(603.37, 2);
    expect(ll - sumLogX).toBeCloseTo(-4659.29, 2);
  });

  it("leaves out customers with x = 0 or a zero-dollar z̄ (pitfall 7)", () => {
    const withZero = [...sample, { x: 2, zbar: 0 }, { x: 0, zbar: 12 }];
    expect(gammaGammaLogLikelihood({ params: PUBLISHED, customers: withZero })).toBe(
      gammaGammaLogLikelihood({ params: PUBLISHED, customers: sample }),
    );
    expect(() => fitGammaGamma({ customers: [{ x: 0, zbar: 0 }, { x: 3, zbar: 0 }] })).toThrow(RangeError);
  });

  it("gives the population mean pγ/(q−1): $35.22 at the rounded parameters, $35.17 at the MLE", () => {
    expect(populationMeanSpend({ params: PUBLISHED })).toBeCloseTo(35.22, 2);
    expect(populationMeanSpend({ params: fit })).toBeCloseTo(35.17, 2);
    expect(populationMeanSpend({ params: { p: 1, q: 1, gamma: 1 } })).toBe(Number.POSITIVE_INFINITY);
  });

  it.each([
    ["1", 24.66],
    ["2", 18.92],
    ["3", 35.22],
    ["6", 71.47],
    ["1516", 39.89],
  ])("customer %s: E[Z | z̄, x] = %d at the rounded parameters", (id, expected) => {
    const customer = sample.find((c) => c.id === id);
    if (!customer) throw new Error(`customer ${id} missing`);
    expect(conditionalExpectedSpend({ params: PUBLISHED, ...customer })).toBeCloseTo(expected, 2);
  });

  it("matches Hardie's spreadsheet for IDs 1–10 at the fitted parameters (lifetimes pins these within 0.1)", () => {
    const expected = [24.65, 18.91, 35.17, 35.17, 35.17, 71.46, 18.91, 35.17, 27.28, 35.17];
    expected.forEach((value, i) => {
      const customer = sample.find((c) => c.id === String(i + 1));
      if (!customer) throw new Error(`customer ${i + 1} missing`);
      expect(Math.abs(conditionalExpectedSpend({ params: fit, ...customer }) - value)).toBeLessThan(0.01);
    });
  });

  it("does not depend on the currency unit: in cents γ scales by 100 and p, q stay put", () => {
    const inCents = fitGammaGamma({ customers: sample.map(({ x, zbar }) => ({ x, zbar: zbar * 100 })) });
    expect(relativeError(inCents.gamma, fit.gamma * 100)).toBeLessThan(1e-4);
    expect(relativeError(inCents.p, fit.p)).toBeLessThan(1e-4);
    expect(relativeError(inCents.q, fit.q)).toBeLessThan(1e-4);
  });
});
