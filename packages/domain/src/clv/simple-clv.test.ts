import { describe, expect, it } from "vitest";

import {
  clvCacRatio,
  lifespanYearsFromChurn,
  profitClvCents,
  recurringRevenueCents,
  roundCents,
  simpleClvCents,
} from "./simple-clv.js";

describe("simple CLV (seed articles)", () => {
  it("$100 a order × 10 orders a year × 5 years = $5,000", () => {
    expect(simpleClvCents({ averageOrderValueCents: 100_00, purchasesPerYear: 10, lifespanYears: 5 })).toBe(5_000_00);
  });

  it("lifespan = 1 / annual churn: 20% churn is 5 years, and it feeds simple CLV", () => {
    expect(lifespanYearsFromChurn({ annualChurnRate: 0.2 })).toBe(5);
    const lifespanYears = lifespanYearsFromChurn({ annualChurnRate: 0.3 });
    // 1 / 0.3 = 3.333…: $100 × 10 × 3.333… = $3,333.33 to the cent.
    expect(simpleClvCents({ averageOrderValueCents: 100_00, purchasesPerYear: 10, lifespanYears })).toBe(3_333_33);
    expect(() => lifespanYearsFromChurn({ annualChurnRate: 0 })).toThrow(RangeError);
  });

  it("recurring revenue: $19.99 a month is $239.88 a year, $119.94 if the customer leaves after six months", () => {
    expect(recurringRevenueCents({ monthlyPriceCents: 19_99 })).toBe(239_88);
    expect(recurringRevenueCents({ monthlyPriceCents: 19_99, months: 6 })).toBe(119_94);
  });

  it("profit CLV = annual profit contribution × years retained − acquisition cost", () => {
    expect(profitClvCents({ annualProfitContributionCents: 300_00, yearsRetained: 5, acquisitionCostCents: 200_00 })).toBe(1_300_00);
    expect(profitClvCents({ annualProfitContributionCents: 50_00, yearsRetained: 1, acquisitionCostCents: 200_00 })).toBe(-150_00);
  });

  it("CLV:CAC, with 3:1 exactly counting as healthy", () => {
    expect(clvCacRatio({ clvCents: 1_300_00, acquisitionCostCents: 200_00 })).toEqual({ ratio: 6.5, meetsHealthyRatio: true });
    expect(clvCacRatio({ clvCents: 600_00, acquisitionCostCents: 200_00 })).toEqual({ ratio: 3, meetsHealthyRatio: true });
    expect(clvCacRatio({ clvCents: 599_99, acquisitionCostCents: 200_00 }).meetsHealthyRatio).toBe(false);
    expect(clvCacRatio({ clvCents: 500_00, acquisitionCostCents: 0 })).toEqual({ ratio: undefined, meetsHealthyRatio: true });
  });

  it("rounds to cents half away from zero, ignoring float noise", () => {
    expect(roundCents(0.1 * 3 * 15)).toBe(5); // 4.5000000000000001 → 5
    expect(roundCents(4.4999999999999)).toBe(5);
    expect(roundCents(-2.5)).toBe(-3);
    expect(roundCents(2.4)).toBe(2);
  });
});
