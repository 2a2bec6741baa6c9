import { describe, expect, it } from "vitest";

import { hyp2f1, logBeta, logGamma, logHyp2f1, logSumExp } from "./special.js";

// Reference values: closed forms, or mpmath at 30 digits (rounded to 16) where there is none.
describe("logGamma", () => {
  it.each([
    [1, 0],
    [2, 0],
    [0.5, 0.5 * Math.log(Math.PI)],
    [1.5, -0.1207822376352452],
    [2.5, 0.2846828704729192],
    [0.3, 1.095797994818076],
    [1e-3, 6.907178885383854],
    [10, Math.log(362880)],
    [100, 359.1342053695754],
    [1e5, 1051287.708973657],
  ])("lnΓ(%d)", (x, expected) => {
    expect(Math.abs(logGamma(x) - expected)).toBeLessThan(1e-13 * Math.max(1, Math.abs(expected)));
  });

  it("satisfies Γ(x + 1) = x Γ(x) across the range the fits use", () => {
    for (const x of [0.01, 0.243, 0.793, 2.426, 7.5, 26.243, 300.2]) {
      expect(logGamma(x + 1) - logGamma(x)).toBeCloseTo(Math.log(x), 12);
    }
  });
});

describe("logBeta and logSumExp", () => {
  it("lnB(2, 3) = ln(1/12)", () => {
    expect(logBeta(2, 3)).toBeCloseTo(Math.log(1 / 12), 14);
  });

  it("adds in log space without overflow or underflow", () => {
    expect(logSumExp(Math.log(2), Math.log(3))).toBeCloseTo(Math.log(5), 14);
    expect(logSumExp(-2000, -2000)).toBeCloseTo(-2000 + Math.log(2), 12);
    expect(logSumExp(1000, 0)).toBe(1000);
    expect(logSumExp(Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY)).toBe(Number.NEGATIVE_INFINITY);
  });
});

describe("hyp2f1", () => {
  const relative = (actual: number, expected: number): number => Math.abs(actual / expected - 1);

  it("matches ₂F₁(1, 1; 2; z) = −ln(1 − z) / z, including close to z = 1", () => {
    for (const z of [0.1, 0.5, 0.9, 0.99]) {
      expect(relative(hyp2f1({ a: 1, b: 1, c: 2, z }), -Math.log1p(-z) / z)).toBeLessThan(1e-13);
    }
  });

  it("is 1 at z = 0", () => {
    expect(hyp2f1({ a: 3, b: 4, c: 5, z: 0 })).toBe(1);
  });

  it("matches (1 − z)^(−a) for c = b, a case that takes the Euler branch", () => {
    expect(relative(hyp2f1({ a: 3.3, b: 1.7, c: 1.7, z: 0.8 }), Math.pow(0.2, -3.3))).toBeLessThan(1e-13);
  });

  it.each([
    // direct series (c − a − b > 0)
    [0.5, 1.5, 2.7, 0.3, 1.098991127260710],
    // a negative parameter, terms change sign
    [2.5, -0.2, 1.3, 0.7, 0.4258079616360031],
    // eq. 9 at the BG/NBD estimates near z = 1: slow convergence, Euler branch
    [0.243, 2.426, 2.219, 0.999, 11.09650428868049],
    // eq. 10 for customer 1516 (x = 26): the value is 3e10
    [26.2425982, 28.426167, 28.2191569, 0.6, 33225039102.17113],
  ])("₂F₁(%d, %d; %d; %d) against mpmath", (a, b, c, z, expected) => {
    expect(relative(hyp2f1({ a, b, c, z }), expected)).toBeLessThan(1e-12);
  });

  it("applies logScale before exponentiating, so a heavy buyer's term does not overflow", () => {
    // ln ₂F₁(300.25, 302.4; 302.2; 0.95) = 900.07: e^900 is not a double, but the product with
    // 0.05^300.25 (eq. 10's prefactor) is 1.82. mpmath: ln(product) = 0.597915120910766.
    const logScale = 300.25 * Math.log(0.05);
    const value = hyp2f1({ a: 300.25, b: 302.4, c: 302.2, z: 0.95, logScale });
    expect(Math.log(value)).toBeCloseTo(0.597915120910766, 10);
  });

  it("logHyp2f1 agrees with hyp2f1 and stays finite where ₂F₁ itself is past a double", () => {
    expect(logHyp2f1({ a: 0.5, b: 1.5, c: 2.7, z: 0.3 })).toBeCloseTo(Math.log(1.09899112726071), 13);
    // The case above: ln ₂F₁(300.25, 302.4; 302.2; 0.95) = 0.597915120910766 − 300.25 ln 0.05 ≈ 900.07.
    expect(logHyp2f1({ a: 300.25, b: 302.4, c: 302.2, z: 0.95 })).toBeCloseTo(0.597915120910766 - 300.25 * Math.log(0.05), 9);
    expect(() => logHyp2f1({ a: 1, b: 1, c: 2, z: 1 })).toThrow(RangeError);
  });

  it("rejects arguments outside its domain", () => {
    expect(() => hyp2f1({ a: 1, b: 1, c: 2, z: 1 })).toThrow(RangeError);
    expect(() => hyp2f1({ a: 1, b: 1, c: 2, z: -0.1 })).toThrow(RangeError);
    expect(() => hyp2f1({ a: 1, b: 1, c: 0, z: 0.5 })).toThrow(RangeError);
  });
});
