import { describe, expect, it } from "vitest";
import {
  cesAverage,
  churnRatePercent,
  csatPercent,
  firstContactResolutionPercent,
  npsScore,
  percentOf,
  referralRatePercent,
  repeatPurchaseRatePercent,
  shareWithinTargetPercent,
  tallyCes,
  tallyCsat,
  tallyNps,
} from "./formulas.js";

// Each measure pinned with a set small enough to count by hand, plus its empty case: a
// denominator of 0 is `null`, never 0 or NaN.

describe("NPS = % promoters (9–10) − % detractors (0–6)", () => {
  it("10 responses [10,9,9,8,7,6,5,3,10,0]: 4 promoters (40%) − 4 detractors (40%) = 0, 2 passives", () => {
    const counts = tallyNps([10, 9, 9, 8, 7, 6, 5, 3, 10, 0]);
    expect(counts).toEqual({ responses: 10, promoters: 4, passives: 2, detractors: 4 });
    expect(npsScore(counts)).toBe(0);
  });

  it("the band edges: 9 promotes, 8 and 7 are passive, 6 detracts", () => {
    expect(tallyNps([9, 8, 7, 6])).toEqual({ responses: 4, promoters: 1, passives: 2, detractors: 1 });
  });

  it("all promoters is 100, all detractors −100; 1 promoter and 2 detractors of 3 is −33.3…", () => {
    expect(npsScore(tallyNps([10, 9]))).toBe(100);
    expect(npsScore(tallyNps([0, 6, 3]))).toBe(-100);
    expect(npsScore(tallyNps([10, 3, 0]))).toBe(-100 / 3);
    // 3 promoters and 1 detractor of 8: 37.5% − 12.5% = 25
    expect(npsScore(tallyNps([9, 10, 9, 0, 7, 7, 8, 8]))).toBe(25);
  });

  it("is null with no responses", () => {
    expect(npsScore(tallyNps([]))).toBeNull();
  });

  it("rejects counts that cannot be", () => {
    expect(() => npsScore({ responses: 2, promoters: 2, detractors: 1 })).toThrow(RangeError);
    expect(() => npsScore({ responses: 2, promoters: -1, detractors: 0 })).toThrow(RangeError);
  });
});

describe("CSAT % = responses of 4 or 5 ÷ all CSAT responses × 100", () => {
  it("[5,4,3,2,1,5]: 3 of 6 satisfied = 50%", () => {
    expect(tallyCsat([5, 4, 3, 2, 1, 5])).toEqual({ responses: 6, satisfied: 3 });
    expect(csatPercent(tallyCsat([5, 4, 3, 2, 1, 5]))).toBe(50);
  });

  it("2 of 3 is 66.6… (not rounded here); none satisfied is 0, not null", () => {
    expect(csatPercent(tallyCsat([4, 5, 3]))).toBe(200 / 3);
    expect(csatPercent(tallyCsat([1, 2, 3]))).toBe(0);
  });

  it("is null with no responses", () => {
    expect(csatPercent(tallyCsat([]))).toBeNull();
  });
});

describe("CES = Σ effort scores ÷ number of CES responses", () => {
  it("[1,2,3,7] = 13 / 4 = 3.25", () => {
    expect(tallyCes([1, 2, 3, 7])).toEqual({ responses: 4, sum: 13 });
    expect(cesAverage(tallyCes([1, 2, 3, 7]))).toBe(3.25);
  });

  it("[7,2,4] = 13 / 3, unrounded", () => {
    expect(cesAverage(tallyCes([7, 2, 4]))).toBe(13 / 3);
  });

  it("is null with no responses", () => {
    expect(cesAverage(tallyCes([]))).toBeNull();
  });
});

describe("rates from counts", () => {
  it("churn: 2 lost of 4 active at the start = 50%; none lost = 0; nobody active = null", () => {
    expect(churnRatePercent({ lost: 2, activeAtStart: 4 })).toBe(50);
    expect(churnRatePercent({ lost: 0, activeAtStart: 4 })).toBe(0);
    expect(churnRatePercent({ lost: 0, activeAtStart: 0 })).toBeNull();
  });

  it("referral: 2 of 3 new customers came by referral = 66.6…; no new customers = null", () => {
    expect(referralRatePercent({ referred: 2, newCustomers: 3 })).toBe(200 / 3);
    expect(referralRatePercent({ referred: 0, newCustomers: 0 })).toBeNull();
  });

  it("first-contact resolution: 4 of 5 resolved tickets in one contact = 80%; none resolved = null", () => {
    expect(firstContactResolutionPercent({ firstContact: 4, resolved: 5 })).toBe(80);
    expect(firstContactResolutionPercent({ firstContact: 0, resolved: 0 })).toBeNull();
  });

  it("repeat purchase: 1 of 3 buyers bought twice or more = 33.3…; no buyers = null", () => {
    expect(repeatPurchaseRatePercent({ repeaters: 1, customers: 3 })).toBe(100 / 3);
    expect(repeatPurchaseRatePercent({ repeaters: 0, customers: 0 })).toBeNull();
  });

  it("share within target: 3 of 5 judged tickets answered in time = 60%; nothing judged = null", () => {
    expect(shareWithinTargetPercent({ withinTarget: 3, judged: 5 })).toBe(60);
    expect(shareWithinTargetPercent({ withinTarget: 0, judged: 0 })).toBeNull();
  });

  it("a part larger than its whole, a negative or a fractional count is a bug upstream: it throws", () => {
    expect(() => percentOf(3, 2)).toThrow(RangeError);
    expect(() => percentOf(-1, 2)).toThrow(RangeError);
    expect(() => percentOf(0.5, 2)).toThrow(RangeError);
    expect(() => churnRatePercent({ lost: 1, activeAtStart: 0 })).toThrow(RangeError);
  });
});
