import { describe, expect, it } from "vitest";
import { historicalClvCents } from "../clv/simple-clv.js";
import { EngineSettings, evaluateCustomer, type CustomerState } from "./evaluate-customer.js";
import { expectedLifespan } from "./lifespan.js";

// The seeds' economics in one customer's evaluation: historical CLV with the margin, and the
// simple CLV's lifespan from the measured churn or the setting.

const NOW = new Date("2026-01-01T00:00:00Z");
const settings = (margin: number) => EngineSettings.parse({ clv: { margin, lifespanYears: 3 } });

/** Four orders over exactly two years (731 days: 2024 is a leap year): $400, $10 refunded, CAC $20. */
const buyer: CustomerState = {
  customerId: "c",
  facts: {
    firstSeenAt: new Date("2024-01-01T00:00:00Z"),
    purchaseCount: 4,
    firstPurchaseAt: new Date("2024-01-01T00:00:00Z"),
    lastPurchaseAt: new Date("2025-12-20T00:00:00Z"),
    unansweredTicketsOpenedAt: [],
  },
  purchaseDays: 4,
  repeatDaySpendMean: 100,
  revenue: 400,
  refunded: 10,
  acquisitionCost: 20,
  openTickets: 0,
};

describe("historical CLV: (purchases − refunds) × margin, in whole cents", () => {
  it("applies the margin once and rounds half away from zero", () => {
    expect(historicalClvCents({ netRevenueCents: 390_00, margin: 0.3 })).toBe(117_00);
    // 10.05 × 0.3 = 3.015: a float says 3.01499…, the cents say 3.02 (and so does Postgres' round).
    expect(historicalClvCents({ netRevenueCents: 10_05, margin: 0.3 })).toBe(3_02);
    expect(historicalClvCents({ netRevenueCents: -5_00, margin: 0.3 })).toBe(-1_50);
  });

  it("is what the evaluation reports, margin applied", () => {
    expect(evaluateCustomer({ state: buyer, now: NOW, models: {}, settings: settings(0.3) }).historicalClv).toBe(117);
    expect(evaluateCustomer({ state: buyer, now: NOW, models: {}, settings: settings(1) }).historicalClv).toBe(390);
  });
});

describe("the simple CLV's lifespan", () => {
  it("is 1 ÷ the annual churn rate with a year of history and some churn", () => {
    expect(expectedLifespan({ churn: { annualRate: 0.25, historyDays: 365 }, settingYears: 3 })).toEqual({ years: 4, source: "churn" });
  });

  it("falls back to the setting with less than a year of history, no churn, or no measure", () => {
    expect(expectedLifespan({ churn: { annualRate: 0.25, historyDays: 364 }, settingYears: 3 })).toEqual({ years: 3, source: "setting" });
    expect(expectedLifespan({ churn: { annualRate: 0, historyDays: 900 }, settingYears: 3 })).toEqual({ years: 3, source: "setting" });
    expect(expectedLifespan({ settingYears: 3 })).toEqual({ years: 3, source: "setting" });
    // A quiet year (2 % lost) would promise 50 years: the cap holds it at maxYears.
    expect(expectedLifespan({ churn: { annualRate: 0.02, historyDays: 400 }, settingYears: 3, maxYears: 10 })).toEqual({ years: 10, source: "churn" });
    expect(expectedLifespan({ churn: { annualRate: 0.25, historyDays: 400 }, settingYears: 3, maxYears: 10 })).toEqual({ years: 4, source: "churn" });
  });

  it("sets the simple and profit CLV and the CLV:CAC ratio, and says which was used", () => {
    // AOV $100; tenure 731 / 365.25 years, so 4 ÷ that = 1.99863… purchases a year.
    const perYear = 4 / (731 / 365.25);
    const measured = evaluateCustomer({ state: buyer, now: NOW, models: {}, settings: settings(0.3), churn: { annualRate: 0.25, historyDays: 400 } });
    expect(measured.lifespan).toEqual({ years: 4, source: "churn" });
    // $100 × 1.99863 × 4 = $799.45
    expect(measured.simpleClv).toBe(Math.round(100_00 * perYear * 4) / 100);
    expect(measured.simpleClv).toBe(799.45);
    // profit: $100 × 1.99863 × 0.3 × 4 − $20 = $219.84; CLV:CAC = 799.45 × 0.3 ÷ 20 = 11.99…
    expect(measured.profitClv).toBe(219.84);
    expect(measured.clvCacRatio).toBeCloseTo((799.45 * 0.3) / 20, 9);

    const configured = evaluateCustomer({ state: buyer, now: NOW, models: {}, settings: settings(0.3), churn: { annualRate: 0.25, historyDays: 100 } });
    expect(configured.lifespan).toEqual({ years: 3, source: "setting" });
    // $100 × 1.99863 × 3 = $599.59
    expect(configured.simpleClv).toBe(599.59);
  });

  it("is absent for a customer with no purchase (no simple CLV either)", () => {
    const prospect: CustomerState = { ...buyer, facts: { firstSeenAt: buyer.facts.firstSeenAt, purchaseCount: 0, unansweredTicketsOpenedAt: [] }, purchaseDays: 0, revenue: 0, refunded: 0 };
    const e = evaluateCustomer({ state: prospect, now: NOW, models: {}, settings: settings(0.3), churn: { annualRate: 0.25, historyDays: 400 } });
    expect(e).toMatchObject({ historicalClv: 0, simpleClv: undefined, lifespan: undefined });
  });
});
