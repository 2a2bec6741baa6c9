import { describe, expect, it } from "vitest";
import { FollowUpJob, LifecycleEvent } from "@lifecycle/events";
import { DEFAULT_STAGE_RULES } from "../stages/stage-rules.js";
import { checkFollowUp, type FollowUpCheckState } from "./check-follow-up.js";
import { DEFAULT_PLAYBOOK_SETTINGS, PlaybookSettings } from "./playbook-settings.js";
import { nextBirthday, triggersForEvents, triggersForTransition, birthdayIntent } from "./triggers.js";

const settings = DEFAULT_PLAYBOOK_SETTINGS;
const rules = DEFAULT_STAGE_RULES;
const now = new Date("2025-06-10T12:00:00Z");
let n = 0;
const ev = (type: string, data: Record<string, unknown>, time = "2025-06-10T10:00:00Z") =>
  LifecycleEvent.parse({ specversion: "1.0", id: `e${++n}`, source: "t", subject: "c1", time, type, data });
const summary = (events: LifecycleEvent[], firstPurchases: { customerId: string; eventId: string; time: Date }[] = []) =>
  triggersForEvents({ events, firstPurchases, settings, rules, now }).map((i) => `${i.playbook} ${i.trigger} due ${i.dueAt.toISOString()} ${i.channel} p${i.priority}`);

describe("playbook triggers", () => {
  it("thank-you on the first purchase, a CSAT survey 3 days after each purchase", () => {
    const p = ev("purchase.completed", { orderId: "o1", amount: "10", currency: "USD" });
    expect(summary([p], [{ customerId: "c1", eventId: p.id, time: new Date(p.time) }])).toEqual([
      "thank-you first-purchase due 2025-06-10T10:00:00.000Z log p5",
      "csat-survey order-o1 due 2025-06-13T10:00:00.000Z log p10",
    ]);
  });

  it("escalation when the 2-hour response target passes; a CSAT survey after a resolution", () => {
    expect(summary([ev("ticket.opened", { ticketId: "t1" }), ev("ticket.resolved", { ticketId: "t1", contacts: 1 })])).toEqual([
      "escalation ticket-t1 due 2025-06-10T12:00:00.000Z log p1",
      "csat-survey ticket-t1 due 2025-06-13T10:00:00.000Z log p10",
    ]);
  });

  it("recovery for a detractor, a low CSAT or a high effort; a referral invitation for a promoter, once a year", () => {
    const lines = summary([
      ev("survey.responded", { kind: "nps", score: 6 }),
      ev("survey.responded", { kind: "nps", score: 7 }),
      ev("survey.responded", { kind: "csat", score: 2 }),
      ev("survey.responded", { kind: "csat", score: 3 }),
      ev("survey.responded", { kind: "ces", score: 6 }),
      ev("survey.responded", { kind: "ces", score: 5 }),
      ev("survey.responded", { kind: "nps", score: 9 }),
    ]);
    expect(lines.filter((l) => l.startsWith("recovery"))).toHaveLength(3);
    expect(lines.filter((l) => l.startsWith("referral-invitation"))).toEqual(["referral-invitation promoter-2025 due 2025-06-11T10:00:00.000Z log p20"]);
  });

  it("a birthday gift on the next birthday, at 09:00 UTC; 29 February falls on the 28th in other years", () => {
    expect(summary([ev("customer.registered", { birthday: "1990-06-20" })])).toEqual(["birthday-gift birthday-2025 due 2025-06-20T09:00:00.000Z log p20"]);
    expect(summary([ev("customer.registered", { birthday: "1990-03-01" })])).toEqual(["birthday-gift birthday-2026 due 2026-03-01T09:00:00.000Z log p20"]);
    expect(nextBirthday("2000-02-29", new Date("2025-01-10T00:00:00Z"))).toEqual(new Date("2025-02-28T00:00:00Z"));
    expect(nextBirthday("2000-02-29", new Date("2028-01-10T00:00:00Z"))).toEqual(new Date("2028-02-29T00:00:00Z"));
    expect(nextBirthday("1990-06-10", now)).toEqual(new Date("2025-06-10T00:00:00Z")); // today counts
  });

  it("a birthday gift at 09:00 in the customer's own time zone, daylight saving included", () => {
    // Berlin in summer is UTC+2; Los Angeles in winter UTC-8.
    expect(summary([ev("customer.registered", { birthday: "1990-06-20", timezone: "Europe/Berlin" })])).toEqual(["birthday-gift birthday-2025 due 2025-06-20T07:00:00.000Z log p20"]);
    expect(summary([ev("customer.registered", { birthday: "1990-12-24", timezone: "America/Los_Angeles" })])).toEqual(["birthday-gift birthday-2025 due 2025-12-24T17:00:00.000Z log p20"]);
    // 2026-03-29 is the day Berlin moves to summer time at 02:00: 09:00 local is 07:00 UTC.
    const [spring] = birthdayIntent({ customerId: "c1", birthday: "1990-03-29", from: new Date("2026-03-01T00:00:00Z"), causationId: "e", settings, timeZone: "Europe/Berlin" });
    expect(spring?.dueAt.toISOString()).toBe("2026-03-29T07:00:00.000Z");
    expect(spring?.triggeredAt.toISOString()).toBe("2026-03-28T23:00:00.000Z"); // local midnight, still winter time
  });

  it("win-backs when a customer turns at-risk and churned, a cross-sell on becoming repeat; nothing for new", () => {
    const t = (to: "at-risk" | "churned" | "repeat" | "new") =>
      triggersForTransition({ customerId: "c1", transition: { from: "new", to, reason: "x", at: new Date("2025-06-01T00:00:00Z") }, settings }).map((i) => `${i.playbook} ${i.trigger}`);
    expect(t("at-risk")).toEqual(["win-back-at-risk at-risk-2025-06-01T00:00:00.000Z"]);
    expect(t("churned")).toEqual(["win-back-churned churned-2025-06-01T00:00:00.000Z"]);
    expect(t("repeat")).toEqual(["cross-sell repeat-2025-06-01T00:00:00.000Z"]);
    expect(t("new")).toEqual([]);
  });

  it("configuration: a disabled playbook triggers nothing; delay and channel are taken from settings", () => {
    const custom = PlaybookSettings.parse({ "csat-survey": { enabled: false }, "thank-you": { delayMinutes: 60, channel: "email" } });
    const p = ev("purchase.completed", { orderId: "o2", amount: "10", currency: "USD" });
    const out = triggersForEvents({ events: [p], firstPurchases: [{ customerId: "c1", eventId: p.id, time: new Date(p.time) }], settings: custom, rules, now });
    expect(out.map((i) => [i.playbook, i.dueAt.toISOString(), i.channel])).toEqual([["thank-you", "2025-06-10T11:00:00.000Z", "email"]]);
    expect(PlaybookSettings.safeParse({ "thank-you": { delay: 5 } }).success).toBe(false); // unknown keys are errors, not ignored
  });
});

describe("the condition re-checked when a job runs", () => {
  const job = (playbook: FollowUpJob["playbook"], context: Record<string, string | number> = {}) =>
    FollowUpJob.parse({
      customerId: "c1", playbook, trigger: "t", channel: "log", causationId: "e1",
      triggeredAt: "2025-06-01T00:00:00Z", dueAt: "2025-06-01T01:00:00Z", expiresAt: "2025-06-15T00:00:00Z", context,
    });
  const check = (j: FollowUpJob, state: FollowUpCheckState, at = now) => checkFollowUp({ job: j, state, now: at, rules });
  const later = new Date("2025-06-05T00:00:00Z");

  it("expired jobs are skipped, whatever the playbook", () => {
    expect(check(job("thank-you"), {}, new Date("2025-06-15T00:00:01Z"))).toEqual({ send: false, why: "expired: due 2025-06-01T01:00:00.000Z, checked 2025-06-15T00:00:01.000Z" });
  });

  it("win-backs and cross-sells only while the stage still holds", () => {
    expect(check(job("win-back-at-risk"), { stage: "at-risk" })).toEqual({ send: true });
    expect(check(job("win-back-at-risk"), { stage: "repeat" })).toEqual({ send: false, why: "no longer at-risk (now repeat)" });
    expect(check(job("win-back-churned"), { stage: "new" })).toMatchObject({ send: false });
    expect(check(job("cross-sell"), { stage: "at-risk" })).toMatchObject({ send: false });
  });

  it("escalation only while the ticket is open and unanswered", () => {
    expect(check(job("escalation"), { ticket: { open: true } })).toEqual({ send: true });
    expect(check(job("escalation"), { ticket: { open: true, firstResponseAt: later } })).toEqual({ send: false, why: "answered at 2025-06-05T00:00:00.000Z" });
    expect(check(job("escalation"), { ticket: { open: false } })).toEqual({ send: false, why: "resolved without a response" });
  });

  it("a CSAT survey is moot once the customer answered one since; recovery once a later score is fine", () => {
    expect(check(job("csat-survey"), { latestCsat: { score: 4, at: later } })).toMatchObject({ send: false });
    expect(check(job("csat-survey"), { latestCsat: { score: 4, at: new Date("2025-05-01T00:00:00Z") } })).toEqual({ send: true });
    expect(check(job("recovery", { kind: "nps", score: 3 }), { latestNps: { score: 9, at: later } })).toEqual({ send: false, why: "a later nps score of 9 is no longer negative" });
    expect(check(job("recovery", { kind: "nps", score: 3 }), { latestNps: { score: 2, at: later } })).toEqual({ send: true });
  });

  it("a referral invitation is moot once the customer is no longer a promoter", () => {
    expect(check(job("referral-invitation"), { latestNps: { score: 10, at: later } })).toEqual({ send: true });
    expect(check(job("referral-invitation"), { latestNps: { score: 5, at: later } })).toEqual({ send: false, why: "no longer a promoter (latest NPS 5)" });
  });
});
