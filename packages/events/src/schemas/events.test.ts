import { describe, expect, it } from "vitest";
import { decodeLifecycleEvent, type Rejection } from "../decode.js";

const base = { specversion: "1.0", source: "test", subject: "c-1", time: "2026-01-02T03:04:05Z" };
const encode = (e: object) => Buffer.from(JSON.stringify(e));
let n = 0;
const ev = (type: string, data: unknown) => ({ ...base, id: `e-${++n}`, type, data });
const externalIds = (count: number) => Array.from({ length: count }, (_, i) => `email:guest-${i}@example.com`);

const decode = (e: object) => decodeLifecycleEvent(encode(e));
const rejection = (e: object): Rejection | undefined => {
  const r = decode(e);
  return r.ok ? undefined : r.error;
};

describe("lifecycle event contracts (CONTRACT.md section 1)", () => {
  it.each([
    ["customer.registered", {}],
    ["customer.registered", { email: "a@b.co", name: "A", acquisitionChannel: "ads", acquisitionCost: "12.5", referredBy: "c-0", birthday: "1990-02-28" }],
    ["customer.registered", { timezone: "Europe/Berlin" }],
    ["customer.registered", { locale: "de-AT" }],
    ["customer.cancelled", { reason: "subscription-ended" }],
    ["customer.consent.updated", { channel: "email", status: "granted", source: "preference-centre" }],
    ["customer.consent.updated", { channel: "email", status: "withdrawn", source: "one-click-unsubscribe" }],
    ["customer.consent.updated", { channel: "email", status: "suppressed", source: "hard-bounce" }],
    ["purchase.completed", { orderId: "o1", amount: "19.99", currency: "USD" }],
    ["purchase.completed", { orderId: "o1", amount: "20.00", currency: "EUR", items: [{ sku: "x", quantity: 2 }], channel: "web", referralCode: "R1" }],
    ["purchase.refunded", { orderId: "o1", amount: "0", currency: "USD" }],
    ["ticket.opened", { ticketId: "t1", channel: "chat", priority: "high" }],
    ["ticket.responded", { ticketId: "t1", by: "agent" }],
    ["ticket.resolved", { ticketId: "t1", contacts: 1 }],
    ["ticket.reopened", { ticketId: "t1" }],
    ["survey.responded", { kind: "nps", score: 0 }],
    ["survey.responded", { kind: "nps", score: 10, surveyId: "s", comment: "great", orderId: "o1" }],
    ["survey.responded", { kind: "csat", score: 5, ticketId: "t1" }],
    ["survey.responded", { kind: "ces", score: 7 }],
    ["customer.identified", { ids: ["email:ann@example.com"] }],
    ["customer.identified", { ids: ["email:ann@example.com", "account:42", "helpdesk:9921", "crm_v2:Ann Smith"] }],
    ["customer.identified", { ids: externalIds(50) }],
    ["customer.merged", { mergedIds: ["c-2"] }],
    ["customer.merged", { mergedIds: ["account:43", "email:ann@example.com"], reason: "duplicate-profile" }],
  ])("accepts %s %j", (type, data) => {
    expect(decode(ev(type, data))).toMatchObject({ ok: true, value: { type, data } });
  });

  it("normalises amounts to decimal strings", () => {
    const r = decode(ev("purchase.completed", { orderId: "o", amount: 12.5, currency: "USD" }));
    expect(r.ok && r.value.type === "purchase.completed" ? r.value.data.amount : undefined).toBe("12.5");
  });

  it.each<[string, object, Rejection["kind"], string[]]>([
    ["an unknown type", ev("order.shipped", {}), "unknown-type", ["type"]],
    ["a time without offset", { ...ev("ticket.reopened", { ticketId: "t" }), time: "2026-01-02 03:04:05" }, "invalid-time", ["time"]],
    ["a missing required field", ev("purchase.completed", { amount: "1", currency: "USD" }), "invalid-data", ["data.orderId"]],
    ["an unknown data field (strict)", ev("ticket.reopened", { ticketId: "t", extra: 1 }), "invalid-data", ["data"]],
    ["a negative amount", ev("purchase.completed", { orderId: "o", amount: -1, currency: "USD" }), "out-of-range", ["data.amount"]],
    ["an amount with 5 decimals", ev("purchase.refunded", { orderId: "o", amount: "1.00001", currency: "USD" }), "invalid-data", ["data.amount"]],
    ["a currency that is not ISO 4217", ev("purchase.completed", { orderId: "o", amount: "1", currency: "XYZ" }), "invalid-data", ["data.currency"]],
    ["an NPS of 11", ev("survey.responded", { kind: "nps", score: 11 }), "out-of-range", ["data.score"]],
    ["a CSAT of 0", ev("survey.responded", { kind: "csat", score: 0 }), "out-of-range", ["data.score"]],
    ["a CES of 8", ev("survey.responded", { kind: "ces", score: 8 }), "out-of-range", ["data.score"]],
    ["a fractional score", ev("survey.responded", { kind: "nps", score: 7.5 }), "invalid-data", ["data.score"]],
    ["an unknown survey kind", ev("survey.responded", { kind: "ltr", score: 3 }), "invalid-data", ["data.kind"]],
    ["a bad ticket channel", ev("ticket.opened", { ticketId: "t", channel: "fax" }), "invalid-data", ["data.channel"]],
    ["an invalid birthday", ev("customer.registered", { birthday: "1990-02-30" }), "invalid-data", ["data.birthday"]],
    ["a malformed locale", ev("customer.registered", { locale: "de_AT!" }), "invalid-data", ["data.locale"]],
    ["an unknown time zone", ev("customer.registered", { timezone: "Mars/Olympus" }), "invalid-data", ["data.timezone"]],
    ["consent on a channel without consent", ev("customer.consent.updated", { channel: "log", status: "granted", source: "x" }), "invalid-data", ["data.channel"]],
    ["a suppression not from a bounce or complaint", ev("customer.consent.updated", { channel: "email", status: "suppressed", source: "import" }), "invalid-data", ["data.source"]],
    ["an external id without a namespace", ev("customer.identified", { ids: ["ann@example.com"] }), "invalid-data", ["data.ids.0"]],
    ["an external id with a capitalised namespace", ev("customer.identified", { ids: ["Email:ann@example.com"] }), "invalid-data", ["data.ids.0"]],
    ["an external id with an empty value", ev("customer.identified", { ids: ["account:"] }), "invalid-data", ["data.ids.0"]],
    ["the same external id twice", ev("customer.identified", { ids: ["account:42", "email:a@b.co", "account:42"] }), "invalid-data", ["data.ids"]],
    ["an identify without ids", ev("customer.identified", { ids: [] }), "out-of-range", ["data.ids"]],
    ["an identify of 51 ids", ev("customer.identified", { ids: externalIds(51) }), "out-of-range", ["data.ids"]],
    ["an identify with an unknown field", ev("customer.identified", { ids: ["account:42"], traits: {} }), "invalid-data", ["data"]],
    ["a merge of a customer into itself", ev("customer.merged", { mergedIds: ["c-2", base.subject] }), "invalid-data", ["data.mergedIds"]],
    ["the same merged id twice", ev("customer.merged", { mergedIds: ["c-2", "c-2"] }), "invalid-data", ["data.mergedIds"]],
    ["a merge without merged ids", ev("customer.merged", { mergedIds: [] }), "out-of-range", ["data.mergedIds"]],
    ["a merge of 51 ids", ev("customer.merged", { mergedIds: externalIds(51) }), "out-of-range", ["data.mergedIds"]],
    ["a merge with an unknown field", ev("customer.merged", { mergedIds: ["c-2"], survivor: "c-1" }), "invalid-data", ["data"]],
    ["an over-long subject", { ...ev("ticket.reopened", { ticketId: "t" }), subject: "s".repeat(129) }, "invalid-envelope", ["subject"]],
  ])("rejects %s", (_label, event, kind, paths) => {
    expect(rejection(event)).toMatchObject({ kind, paths });
  });
});
