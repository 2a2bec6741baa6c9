import { describe, expect, it } from "vitest";
import type { LifecycleEvent } from "./schemas/events.js";
import { checkCurrency } from "./currency.js";

const purchase = (currency: string): LifecycleEvent => ({
  specversion: "1.0",
  id: "e1",
  source: "t",
  type: "purchase.completed",
  subject: "c1",
  time: "2026-01-01T00:00:00Z",
  data: { orderId: "o1", amount: "10", currency },
});

describe("checkCurrency", () => {
  const rates = { USD: "1", EUR: "1.08" };
  it("accepts the base currency and currencies with a rate", () => {
    expect(checkCurrency(purchase("USD"), rates)).toBeUndefined();
    expect(checkCurrency(purchase("EUR"), rates)).toBeUndefined();
  });
  it("rejects a currency without a rate, naming the path", () => {
    expect(checkCurrency(purchase("JPY"), rates)).toMatchObject({ kind: "unsupported-currency", paths: ["data.currency"] });
  });
  it("ignores events without money", () => {
    const ticket: LifecycleEvent = { ...purchase("USD"), type: "ticket.reopened", data: { ticketId: "t" } };
    expect(checkCurrency(ticket, {})).toBeUndefined();
  });
});
