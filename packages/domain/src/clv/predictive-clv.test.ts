import { describe, expect, it } from "vitest";

import { conditionalExpectedTransactions, pAlive, type BgNbdParams } from "./bgnbd.js";
import { conditionalExpectedSpend, populationMeanSpend, type GammaGammaParams } from "./gamma-gamma.js";
import { countModel } from "./count-model.js";
import { predictiveClv } from "./predictive-clv.js";

const BG: BgNbdParams = { r: 0.2425982, alpha: 4.413684, a: 0.7929899, b: 2.426167 };
const BG_MODEL = countModel({ kind: "bgnbd", params: BG });
const GG: GammaGammaParams = { p: 6.25, q: 3.74, gamma: 15.44 };
const C1516 = { x: 26, tx: 30.85714, T: 31, zbar: 39.97 };
const C1 = { x: 2, tx: 30.428571, T: 38.857143, zbar: 22.345 };

describe("predictiveClv", () => {
  it("without discounting is P(alive), E[Y(t)] and E(Z) multiplied (customer 1516: E[Y(52)] = 25.7566)", () => {
    const result = predictiveClv({ model: BG_MODEL, gammaGamma: GG, customer: C1516, horizon: 52 });
    expect(result.pAlive).toBeCloseTo(0.96885, 5);
    expect(result.expectedPurchases).toBeCloseTo(25.7566, 3);
    expect(result.expectedSpend).toBeCloseTo(39.89, 2);
    expect(result.predictedClv).toBeCloseTo(result.expectedPurchases * result.expectedSpend, 9);
  });

  it("applies the margin linearly", () => {
    const full = predictiveClv({ model: BG_MODEL, gammaGamma: GG, customer: C1, horizon: 52, annualDiscountRate: 0.1 });
    const margined = predictiveClv({ model: BG_MODEL, gammaGamma: GG, customer: C1, horizon: 52, annualDiscountRate: 0.1, margin: 0.3 });
    expect(margined.predictedClv).toBeCloseTo(full.predictedClv * 0.3, 9);
  });

  it("discounts exactly like lifetimes' _customer_lifetime_value at the equivalent monthly rate", () => {
    // lifetimes, time = 12 months, discount_rate = 1% a month, freq "W" (4.345 weeks a month):
    //   Σ_i (E[Y(4.345 i)] − E[Y(4.345 (i − 1))]) · E(Z) / 1.01^i
    const monthly = 0.01;
    const spend = conditionalExpectedSpend({ params: GG, ...C1 });
    let expected = 0;
    for (let i = 1; i <= 12; i++) {
      const delta =
        conditionalExpectedTransactions({ params: BG, ...C1, t: 4.345 * i }) -
        conditionalExpectedTransactions({ params: BG, ...C1, t: 4.345 * (i - 1) });
      expected += (delta * spend) / Math.pow(1 + monthly, i);
    }
    const result = predictiveClv({
      model: BG_MODEL,
      gammaGamma: GG,
      customer: C1,
      horizon: 12 * 4.345,
      annualDiscountRate: Math.pow(1 + monthly, 12) - 1,
    });
    expect(result.predictedClv).toBeCloseTo(expected, 9);
    const undiscounted = predictiveClv({ model: BG_MODEL, gammaGamma: GG, customer: C1, horizon: 12 * 4.345 });
    expect(result.predictedClv).toBeLessThan(undiscounted.predictedClv);
    expect(result.expectedPurchases).toBeCloseTo(undiscounted.expectedPurchases, 12);
  });

  it("ends a partial last month at the horizon", () => {
    const result = predictiveClv({ model: BG_MODEL, gammaGamma: GG, customer: C1, horizon: 10, annualDiscountRate: 0.2 });
    const at = (t: number): number => conditionalExpectedTransactions({ params: BG, ...C1, t });
    const discount = (t: number): number => Math.pow(1.2, -t / (12 * 4.345));
    const expected =
      (at(4.345) * discount(4.345) + (at(8.69) - at(4.345)) * discount(8.69) + (at(10) - at(8.69)) * discount(10)) *
      conditionalExpectedSpend({ params: GG, ...C1 });
    expect(result.predictedClv).toBeCloseTo(expected, 9);
    expect(result.expectedPurchases).toBeCloseTo(at(10), 12);
  });

  it("values a one-time buyer at the population mean spend, with P(alive) = 1", () => {
    const result = predictiveClv({ model: BG_MODEL, gammaGamma: GG, customer: { x: 0, tx: 0, T: 38.857, zbar: 0 }, horizon: 39 });
    expect(result.pAlive).toBe(1);
    expect(result.expectedSpend).toBe(populationMeanSpend({ params: GG }));
    expect(result.expectedPurchases).toBeCloseTo(0.1951, 3);
  });

  it("is zero over a zero horizon and rejects nonsense", () => {
    const result = predictiveClv({ model: BG_MODEL, gammaGamma: GG, customer: C1, horizon: 0, annualDiscountRate: 0.1 });
    expect(result).toMatchObject({ expectedPurchases: 0, predictedClv: 0, pAlive: pAlive({ params: BG, ...C1 }) });
    expect(() => predictiveClv({ model: BG_MODEL, gammaGamma: GG, customer: C1, horizon: -1 })).toThrow(RangeError);
  });
});
