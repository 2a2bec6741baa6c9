import { describe, expect, it } from "vitest";

import { CALIBRATION_END, loadCdnowSample } from "./cdnow-fixture.test-support.js";
import { rfmSummary } from "./rfm-summary.js";

const at = (iso: string): Date => new Date(iso);

describe("rfmSummary", () => {
  it("excludes the first purchase from the monetary value (lifetimes test_utils: 10, 20, 25 → 22.5)", () => {
    const purchases = [
      { time: at("2024-01-01T10:00:00Z"), amount: 10 },
      { time: at("2024-01-08T10:00:00Z"), amount: 20 },
      { time: at("2024-01-15T10:00:00Z"), amount: 25 },
    ];
    const expected = { x: 2, tx: 2, T: 3, zbar: 22.5 };
    expect(rfmSummary({ purchases, end: at("2024-01-22T00:00:00Z") })).toEqual(expected);
    expect(rfmSummary({ purchases: [...purchases].reverse(), end: at("2024-01-22T00:00:00Z") })).toEqual(expected);
  });

  it("merges purchases on the same UTC day and sums their amounts", () => {
    const purchases = [
      { time: at("2024-03-01T08:00:00Z"), amount: 5 },
      { time: at("2024-03-02T00:00:00Z"), amount: 7 },
      { time: at("2024-03-02T23:59:59Z"), amount: 3 },
      // 00:30 in UTC+2 is still 2024-03-02 in UTC
      { time: at("2024-03-03T00:30:00+02:00"), amount: 1 },
    ];
    expect(rfmSummary({ purchases, end: at("2024-03-09T00:00:00Z"), daysPerUnit: 1 })).toEqual({ x: 1, tx: 1, T: 8, zbar: 11 });
  });

  it("ignores purchases after the end day but keeps one later on the end day itself", () => {
    const purchases = [
      { time: at("2024-01-01T00:00:00Z"), amount: 10 },
      { time: at("2024-01-15T18:00:00Z"), amount: 20 },
      { time: at("2024-01-16T00:00:00Z"), amount: 99 },
    ];
    expect(rfmSummary({ purchases, end: at("2024-01-15T09:00:00Z"), daysPerUnit: 1 })).toEqual({ x: 1, tx: 14, T: 14, zbar: 20 });
  });

  it("gives x = 0, t_x = 0 and z̄ = 0 to a one-time buyer, and nothing to a customer with no purchase yet", () => {
    const purchases = [{ time: at("2024-01-01T12:00:00Z"), amount: 10 }];
    expect(rfmSummary({ purchases, end: at("2024-01-29T00:00:00Z") })).toEqual({ x: 0, tx: 0, T: 4, zbar: 0 });
    expect(rfmSummary({ purchases, end: at("2023-12-31T00:00:00Z") })).toBeUndefined();
    expect(rfmSummary({ purchases: [], end: at("2024-01-29T00:00:00Z") })).toBeUndefined();
  });

  it("rejects an invalid Date and a non-positive unit", () => {
    expect(() => rfmSummary({ purchases: [{ time: new Date(Number.NaN), amount: 1 }], end: at("2024-01-01T00:00:00Z") })).toThrow(RangeError);
    expect(() => rfmSummary({ purchases: [], end: at("2024-01-01T00:00:00Z"), daysPerUnit: 0 })).toThrow(RangeError);
  });
});

describe("rfmSummary on the CDNOW sample (notes/clv-models.md section 2)", () => {
  const calibration = loadCdnowSample();
  const full = new Map(loadCdnowSample(new Date(Date.UTC(1998, 5, 30))).map((c) => [c.id, c]));

  it("reproduces the calibration counts: 2,357 customers, 1,411 with x = 0, 2,457 repeat days", () => {
    expect(calibration).toHaveLength(2357);
    expect(calibration.filter((c) => c.x === 0)).toHaveLength(1411);
    expect(calibration.reduce((sum, c) => sum + c.x, 0)).toBe(2457);
  });

  it("reproduces the 1,882 holdout repeat days (full-period days minus calibration days)", () => {
    const holdout = calibration.reduce((sum, c) => sum + (full.get(c.id)?.x ?? Number.NaN) - c.x, 0);
    expect(holdout).toBe(1882);
  });

  it.each([
    // id, x, t_x, T, z̄, holdout x*
    ["1", 2, 30.4286, 38.8571, 22.345, 1],
    ["2", 1, 1.7143, 38.8571, 11.77, 0],
    ["3", 0, 0, 38.8571, 0, 0],
    ["6", 7, 29.4286, 38.8571, 73.741, 8],
    ["1516", 26, 30.8571, 31.0, 39.97, 15],
  ])("customer %s matches the reference row", (id, x, tx, T, zbar, holdoutX) => {
    const customer = calibration.find((c) => c.id === id);
    expect(customer?.x).toBe(x);
    expect(customer?.tx).toBeCloseTo(tx, 4);
    expect(customer?.T).toBeCloseTo(T, 4);
    expect(customer?.zbar).toBeCloseTo(zbar, 3);
    expect((full.get(id)?.x ?? Number.NaN) - x).toBe(holdoutX);
  });

  it("measures T in days / 7 to 1997-09-30 (customer 1 first bought on 1997-01-01: 272 / 7)", () => {
    expect(CALIBRATION_END.toISOString()).toBe("1997-09-30T00:00:00.000Z");
    expect(calibration.find((c) => c.id === "1")?.T).toBe(272 / 7);
  });
});
