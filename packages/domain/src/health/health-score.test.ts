import { describe, expect, it } from "vitest";
import { HealthSettings, healthScore, type HealthInput } from "./health-score.js";

const settings = HealthSettings.parse({});
const now = new Date("2025-06-01T00:00:00Z");
const base: HealthInput = { now, purchaseCount: 0, netRevenue: 0, openTickets: 0, overdueTickets: 0 };

describe("health score", () => {
  it("a prospect with nothing: recency, frequency and monetary 0, support 1 → 0.1 / 0.8 of the weight = 13", () => {
    const h = healthScore(base, settings);
    expect(h.parts.sentiment).toBeUndefined();
    expect(h.score).toBe(13); // 100 × (0.1 × 1) / (0.3 + 0.2 + 0.2 + 0.1)
  });

  it("a perfect customer scores 100, with every part at 1", () => {
    const h = healthScore({ ...base, purchaseCount: 10, lastPurchaseAt: now, netRevenue: 1000, latestNps: 10, latestCsat: 5, latestCes: 1 }, settings);
    expect(h.score).toBe(100);
    expect(Object.values(h.parts).map((p) => p.value)).toEqual([1, 1, 1, 1, 1]);
  });

  it("hand-computed mixed case, with the parts explained", () => {
    const h = healthScore(
      { ...base, purchaseCount: 1, lastPurchaseAt: new Date("2025-03-03T00:00:00Z"), netRevenue: 0, latestNps: 6, openTickets: 1, overdueTickets: 1 },
      settings,
    );
    // recency 1 − 90/180 = 0.5; frequency ln2/ln11 = 0.289; monetary 0; sentiment 0.6; support 1 − 0.25 − 0.5 = 0.25
    expect(h.parts).toEqual({
      recency: { value: 0.5, weight: 0.3, basis: "90 days since the last purchase" },
      frequency: { value: 0.289, weight: 0.2, basis: "1 purchases" },
      monetary: { value: 0, weight: 0.2, basis: "net revenue 0.00" },
      sentiment: { value: 0.6, weight: 0.2, basis: "NPS 6" },
      support: { value: 0.25, weight: 0.1, basis: "1 open tickets, 1 past the response target" },
    });
    // (0.15 + 0.0578 + 0 + 0.12 + 0.025) / 1.0 = 0.3528
    expect(h.score).toBe(35);
  });
});
