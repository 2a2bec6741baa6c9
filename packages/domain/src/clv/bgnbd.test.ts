import { describe, expect, it } from "vitest";

import {
  ageAtPAliveThreshold,
  bgNbdLogLikelihood,
  conditionalExpectedTransactions,
  expectedTransactions,
  fitBgNbd,
  pAlive,
  type BgNbdCustomer,
  type BgNbdParams,
} from "./bgnbd.js";
import { loadCdnowMaster, loadCdnowSample } from "./cdnow-fixture.test-support.js";

// Published numbers: notes/clv-models.md section 2(a).
const PUBLISHED: BgNbdParams = { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 };
const BTYD: BgNbdParams = { r: 0.2425982, alpha: 4.413684, a: 0.7929899, b: 2.426167 };
const OUR_MLE: BgNbdParams = { r: 0.242595, alpha: 4.413602, a: 0.792922, b: 2.425907 };
const PARAM_KEYS: (keyof BgNbdParams)[] = ["r", "alpha", "a", "b"];
const SHAPE_KEYS: (keyof BgNbdParams)[] = ["r", "a", "b"];
const relativeError = (actual: number, expected: number): number => Math.abs(actual / expected - 1);

describe("BG/NBD on the CDNOW sample", () => {
  const sample = loadCdnowSample();
  const byId = new Map(sample.map((c) => [c.id, c]));
  const fit = fitBgNbd({ customers: sample });

  it("reproduces the published estimates within 1% and LL −9582.4", () => {
    expect(fit.converged).toBe(true);
    expect(fit.sampleSize).toBe(2357);
    for (const key of PARAM_KEYS) {
      expect(relativeError(fit[key], PUBLISHED[key]), key).toBeLessThan(0.01);
      // The notes' independent full-precision MLE: a tighter check that the optimiser really got
      // there (BTYD's own optimum stops short, e.g. b = 2.426167 against 2.425907).
      expect(relativeError(fit[key], OUR_MLE[key]), key).toBeLessThan(1e-5);
    }
    expect(Math.abs(fit.logLikelihood - -9582.4)).toBeLessThan(0.1);
    expect(fit.logLikelihood).toBeCloseTo(-9582.429, 2);
  });

  it("sums the log-likelihood (not the mean) and matches −9582.4305 at the rounded published parameters", () => {
    expect(bgNbdLogLikelihood({ params: PUBLISHED, customers: sample })).toBeCloseTo(-9582.4305, 3);
    expect(fit.logLikelihood).toBeGreaterThanOrEqual(bgNbdLogLikelihood({ params: PUBLISHED, customers: sample }));
  });

  it("gives the same likelihood with identical customers collapsed into weights", () => {
    const counts = new Map<string, BgNbdCustomer>();
    for (const { x, tx, T } of sample) {
      const key = `${x}:${tx}:${T}`;
      const row = counts.get(key);
      counts.set(key, { x, tx, T, weight: (row?.weight ?? 0) + 1 });
    }
    const weighted = [...counts.values()];
    expect(weighted.length).toBeLessThan(sample.length);
    expect(bgNbdLogLikelihood({ params: PUBLISHED, customers: weighted })).toBeCloseTo(
      bgNbdLogLikelihood({ params: PUBLISHED, customers: sample }),
      8,
    );
  });

  it("does not depend on the time unit: in days α scales by 7 and r, a, b stay put", () => {
    const inDays = fitBgNbd({ customers: sample.map(({ x, tx, T }) => ({ x, tx: tx * 7, T: T * 7 })) });
    expect(relativeError(inDays.alpha, fit.alpha * 7)).toBeLessThan(1e-4);
    for (const key of SHAPE_KEYS) expect(relativeError(inDays[key], fit[key]), key).toBeLessThan(1e-4);
  });

  it("matches BTYD: E[X(52)] = 1.444, and customer 1516's E[Y(52)] = 25.7566 and P(alive) = 0.96885", () => {
    expect(expectedTransactions({ params: BTYD, t: 52 })).toBeCloseTo(1.444004, 5);
    const c1516 = { x: 26, tx: 30.85714, T: 31 };
    expect(conditionalExpectedTransactions({ params: BTYD, ...c1516, t: 52 })).toBeCloseTo(25.7566, 3);
    expect(pAlive({ params: BTYD, ...c1516 })).toBeCloseTo(0.96885, 5);
  });

  it.each([
    // id, P(alive), E[Y(39)] at the rounded published parameters
    ["1", 0.7266, 1.2261],
    ["2", 0.2123, 0.2034],
    ["3", 1.0, 0.1951],
    ["6", 0.6418, 3.3374],
    ["1516", 0.9689, 20.7484],
  ])("customer %s: P(alive) and E[Y(39)] match the reference row", (id, expectedPAlive, expectedY39) => {
    const customer = byId.get(id);
    if (!customer) throw new Error(`customer ${id} missing`);
    expect(pAlive({ params: PUBLISHED, ...customer })).toBeCloseTo(expectedPAlive, 3);
    expect(conditionalExpectedTransactions({ params: PUBLISHED, ...customer, t: 39 })).toBeCloseTo(expectedY39, 3);
  });

  it("has E[X(0)] = 0, E[Y(0)] = 0 and a finite eq. 10 for a very heavy buyer", () => {
    expect(expectedTransactions({ params: PUBLISHED, t: 0 })).toBe(0);
    expect(conditionalExpectedTransactions({ params: PUBLISHED, x: 3, tx: 10, T: 20, t: 0 })).toBe(0);
    // x = 500 needs ₂F₁ ≈ e^600, far past a double: only the scaled Euler branch gets this right.
    // Reference: mpmath at 40 digits, 427.5794647774.
    const heavy = conditionalExpectedTransactions({ params: PUBLISHED, x: 500, tx: 39, T: 39, t: 52 });
    expect(heavy).toBeCloseTo(427.5794647774, 8);
  });

  it("handles a = 1, where eqs. 9 and 10 are 0/0, by continuity", () => {
    const params = { ...PUBLISHED, a: 1 };
    const below = expectedTransactions({ params: { ...params, a: 1 - 1e-4 }, t: 52 });
    const above = expectedTransactions({ params: { ...params, a: 1 + 1e-4 }, t: 52 });
    expect(expectedTransactions({ params, t: 52 })).toBeCloseTo((below + above) / 2, 6);
  });
});

describe("ageAtPAliveThreshold", () => {
  it("round-trips: P(alive) at the returned age equals the threshold", () => {
    for (const { x, tx } of [
      { x: 1, tx: 1.7143 },
      { x: 2, tx: 30.4286 },
      { x: 7, tx: 29.4286 },
      { x: 26, tx: 30.8571 },
    ]) {
      for (const threshold of [0.05, 0.3, 0.5]) {
        const T = ageAtPAliveThreshold({ params: PUBLISHED, x, tx, threshold });
        if (T === undefined) throw new Error("expected an age");
        expect(T).toBeGreaterThan(tx);
        expect(pAlive({ params: PUBLISHED, x, tx, T })).toBeCloseTo(threshold, 12);
      }
    }
  });

  it("is undefined for x = 0 (P(alive) is always 1) and t_x when the threshold is above P(alive)'s ceiling", () => {
    expect(ageAtPAliveThreshold({ params: PUBLISHED, x: 0, tx: 0, threshold: 0.5 })).toBeUndefined();
    // Right after a single repeat purchase P(alive) is 1 / (1 + a / b) = 0.754 at most.
    expect(pAlive({ params: PUBLISHED, x: 1, tx: 5, T: 5 })).toBeCloseTo(1 / (1 + 0.793 / 2.426), 12);
    expect(ageAtPAliveThreshold({ params: PUBLISHED, x: 1, tx: 5, threshold: 0.8 })).toBe(5);
    expect(() => ageAtPAliveThreshold({ params: PUBLISHED, x: 1, tx: 5, threshold: 1 })).toThrow(RangeError);
  });
});

// Simulate the BG/NBD story with a seeded generator: the fit must recover the truth, and its
// likelihood must be at least that of the true parameters (it is the maximum).
function simulate({ params, customers, seed }: { params: BgNbdParams; customers: number; seed: number }): BgNbdCustomer[] {
  let state = seed >>> 0;
  const uniform = (): number => {
    // mulberry32
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const normal = (): number => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
  const gamma = (shape: number): number => {
    // Marsaglia–Tsang, with the shape < 1 boost.
    if (shape < 1) return gamma(shape + 1) * Math.pow(1 - uniform(), 1 / shape);
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      const z = normal();
      const v = (1 + c * z) ** 3;
      if (v > 0 && Math.log(1 - uniform()) < 0.5 * z * z + d - d * v + d * Math.log(v)) return d * v;
    }
  };
  const result: BgNbdCustomer[] = [];
  for (let i = 0; i < customers; i++) {
    const rate = gamma(params.r) / params.alpha;
    const ga = gamma(params.a);
    const dropout = ga / (ga + gamma(params.b));
    const T = 20 + 40 * uniform();
    let [t, x, tx] = [0, 0, 0];
    for (;;) {
      t += -Math.log(1 - uniform()) / rate;
      if (t > T) break;
      [x, tx] = [x + 1, t];
      if (uniform() < dropout) break;
    }
    result.push({ x, tx, T });
  }
  return result;
}

describe("fitBgNbd on synthetic data (not tuned to CDNOW)", () => {
  it.each([
    { r: 0.8, alpha: 6, a: 0.6, b: 3 },
    { r: 2, alpha: 10, a: 2.5, b: 6 },
  ])("recovers %o", (truth) => {
    const customers = simulate({ params: truth, customers: 6000, seed: 20240601 });
    const fit = fitBgNbd({ customers });
    expect(fit.converged).toBe(true);
    expect(fit.logLikelihood).toBeGreaterThanOrEqual(bgNbdLogLikelihood({ params: truth, customers }) - 1e-6);
    for (const key of PARAM_KEYS) expect(relativeError(fit[key], truth[key]), key).toBeLessThan(0.3);
    expect(relativeError(expectedTransactions({ params: fit, t: 52 }), expectedTransactions({ params: truth, t: 52 }))).toBeLessThan(0.05);
  });
});

describe("fitBgNbd on the full CDNOW master file", () => {
  it("fits all 23,570 customers", { timeout: 60_000 }, () => {
    const customers = loadCdnowMaster();
    const started = performance.now();
    const fit = fitBgNbd({ customers });
    const seconds = (performance.now() - started) / 1000;
    // Timing belongs to benchmarks: printed for the record, never asserted.
    console.log(
      `BG/NBD fit on CDNOW master: ${fit.sampleSize} customers in ${seconds.toFixed(2)} s, ${fit.iterations} iterations; ` +
        `r=${fit.r.toFixed(4)} alpha=${fit.alpha.toFixed(4)} a=${fit.a.toFixed(4)} b=${fit.b.toFixed(4)} LL=${fit.logLikelihood.toFixed(2)}`,
    );
    expect(fit.sampleSize).toBe(23570);
    expect(fit.converged).toBe(true);
    // The master file is the population the 1/10 sample was drawn from: same ballpark.
    for (const key of PARAM_KEYS) expect(relativeError(fit[key], PUBLISHED[key]), key).toBeLessThan(0.2);
  });
});
