import { describe, expect, it } from "vitest";
import { consentAllows } from "./consent.js";
import { checkFrequencyCap, type CapCandidate } from "./frequency-cap.js";
import { isHeldOut, uplift } from "./holdout.js";
import { instantAt, isTimeZone, localParts } from "./local-time.js";
import { quietHoursEnd } from "./quiet-hours.js";

const at = (iso: string) => new Date(iso);

describe("local time", () => {
  it("reads a zone's wall clock, summer and winter", () => {
    expect(localParts(at("2026-07-01T12:00:00Z"), "Europe/Berlin")).toMatchObject({ year: 2026, month: 7, day: 1, hour: 14, minute: 0 });
    expect(localParts(at("2026-01-01T12:00:00Z"), "Europe/Berlin")).toMatchObject({ hour: 13 });
    expect(localParts(at("2026-01-01T03:00:00Z"), "America/New_York")).toMatchObject({ day: 31, month: 12, year: 2025, hour: 22 });
  });

  it("finds the instant of a local time, across daylight-saving changes", () => {
    expect(instantAt({ year: 2026, month: 7, day: 1, hour: 9, minute: 0 }, "Europe/Berlin").toISOString()).toBe("2026-07-01T07:00:00.000Z");
    expect(instantAt({ year: 2026, month: 12, day: 24, hour: 9, minute: 0 }, "America/Los_Angeles").toISOString()).toBe("2026-12-24T17:00:00.000Z");
    // 2026-03-29 02:30 does not exist in Berlin (02:00 → 03:00): the same time after the jump.
    expect(instantAt({ year: 2026, month: 3, day: 29, hour: 2, minute: 30 }, "Europe/Berlin").toISOString()).toBe("2026-03-29T01:30:00.000Z");
    // 2026-10-25 02:30 happens twice in Berlin: the first one (still summer time, +02:00).
    expect(instantAt({ year: 2026, month: 10, day: 25, hour: 2, minute: 30 }, "Europe/Berlin").toISOString()).toBe("2026-10-25T00:30:00.000Z");
    expect(instantAt({ year: 2026, month: 6, day: 1, hour: 9, minute: 0 }, "Asia/Kolkata").toISOString()).toBe("2026-06-01T03:30:00.000Z");
  });

  it("knows which zones exist", () => {
    expect(isTimeZone("Europe/Berlin")).toBe(true);
    expect(isTimeZone("UTC")).toBe(true);
    expect(isTimeZone("Mars/Olympus")).toBe(false);
  });
});

describe("quiet hours", () => {
  const night = { start: "21:00", end: "08:00" };
  it("defers an evening message to the next local morning, and an early one to the same morning", () => {
    // 22:30 in Berlin (summer) → 08:00 Berlin the next day.
    expect(quietHoursEnd(at("2026-07-01T20:30:00Z"), "Europe/Berlin", night)?.toISOString()).toBe("2026-07-02T06:00:00.000Z");
    // 06:00 in New York → 08:00 the same day.
    expect(quietHoursEnd(at("2026-07-01T10:00:00Z"), "America/New_York", night)?.toISOString()).toBe("2026-07-01T12:00:00.000Z");
  });

  it("lets a message through in the day, at the window's edges as stated", () => {
    expect(quietHoursEnd(at("2026-07-01T10:00:00Z"), "Europe/Berlin", night)).toBeUndefined(); // 12:00 local
    expect(quietHoursEnd(at("2026-07-01T06:00:00Z"), "Europe/Berlin", night)).toBeUndefined(); // 08:00 sharp: open
    expect(quietHoursEnd(at("2026-07-01T19:00:00Z"), "Europe/Berlin", night)?.toISOString()).toBe("2026-07-02T06:00:00.000Z"); // 21:00 sharp: quiet
  });

  it("handles a window inside one day, and none at all", () => {
    expect(quietHoursEnd(at("2026-07-01T10:30:00Z"), "UTC", { start: "10:00", end: "11:00" })?.toISOString()).toBe("2026-07-01T11:00:00.000Z");
    expect(quietHoursEnd(at("2026-07-01T22:30:00Z"), "UTC", { start: "00:00", end: "00:00" })).toBeUndefined();
  });
});

describe("consent", () => {
  const granted = { status: "granted" as const };
  it("sends transactional messages without consent, never to a suppressed address", () => {
    expect(consentAllows({ purpose: "transactional", channel: "email", consent: undefined, regime: "opt-in" })).toEqual({ send: true });
    expect(consentAllows({ purpose: "transactional", channel: "email", consent: { status: "withdrawn" }, regime: "opt-in" })).toEqual({ send: true });
    const bounced = consentAllows({ purpose: "transactional", channel: "email", consent: { ...granted, suppressed: { reason: "hard-bounce", at: at("2026-01-02T00:00:00Z") } }, regime: "opt-out" });
    expect(bounced).toEqual({ send: false, why: expect.stringMatching(/^no-consent: email suppressed after a hard-bounce/) });
  });

  it("sends marketing under opt-in only with consent, under opt-out unless withdrawn", () => {
    expect(consentAllows({ purpose: "marketing", channel: "email", consent: undefined, regime: "opt-in" })).toMatchObject({ send: false, why: expect.stringContaining("needs an opt-in") });
    expect(consentAllows({ purpose: "marketing", channel: "email", consent: granted, regime: "opt-in" })).toEqual({ send: true });
    expect(consentAllows({ purpose: "marketing", channel: "email", consent: undefined, regime: "opt-out" })).toEqual({ send: true });
    expect(consentAllows({ purpose: "marketing", channel: "email", consent: { status: "withdrawn" }, regime: "opt-out" })).toMatchObject({ send: false, why: "no-consent: marketing on email withdrawn" });
  });
});

describe("frequency cap", () => {
  const cap = { max: 2, windowDays: 7 };
  const now = at("2026-07-10T12:00:00Z");
  const job = (id: string, playbook: string, priority: number, dueAt = now): CapCandidate => ({ id, playbook, priority, dueAt });

  it("counts marketing sends in the window only", () => {
    const old = { at: at("2026-07-02T12:00:00Z"), playbook: "cross-sell" };
    const recent = { at: at("2026-07-08T12:00:00Z"), playbook: "win-back-at-risk" };
    expect(checkFrequencyCap({ job: job("a", "referral-invitation", 20), sent: [old, recent], due: [], cap, now })).toEqual({ send: true });
    const second = { at: at("2026-07-09T12:00:00Z"), playbook: "cross-sell" };
    expect(checkFrequencyCap({ job: job("a", "referral-invitation", 20), sent: [recent, second], due: [], cap, now })).toMatchObject({ send: false, why: expect.stringMatching(/^frequency-cap: 2 marketing message\(s\) per 7 days reached \(win-back-at-risk sent/) });
  });

  it("lets priority decide among messages due together", () => {
    const winBack = job("w", "win-back-at-risk", 5);
    const crossSell = job("c", "cross-sell", 30);
    const referral = job("r", "referral-invitation", 20);
    const due = [winBack, crossSell, referral];
    const sent = [{ at: at("2026-07-09T00:00:00Z"), playbook: "birthday-gift" }];
    expect(checkFrequencyCap({ job: winBack, sent, due, cap, now })).toEqual({ send: true });
    expect(checkFrequencyCap({ job: referral, sent, due, cap, now })).toMatchObject({ send: false, why: expect.stringContaining("win-back-at-risk due first (priority 5)") });
    expect(checkFrequencyCap({ job: crossSell, sent, due, cap, now })).toMatchObject({ send: false });
    // Equal priority: the earlier due goes first.
    const early = job("e", "cross-sell", 30, at("2026-07-10T11:00:00Z"));
    expect(checkFrequencyCap({ job: crossSell, sent, due: [early, crossSell], cap, now })).toMatchObject({ send: false });
    expect(checkFrequencyCap({ job: early, sent, due: [early, crossSell], cap, now })).toEqual({ send: true });
  });
});

describe("holdout groups", () => {
  const ids = Array.from({ length: 10_000 }, (_, i) => `customer-${i}`);

  it("holds out the configured share, within three standard deviations, deterministically", () => {
    for (const share of [0.05, 0.1, 0.5]) {
      const held = ids.filter((id) => isHeldOut("win-back-at-risk", id, share)).length;
      const sd = Math.sqrt(ids.length * share * (1 - share));
      expect(Math.abs(held - ids.length * share), `share ${share}: ${held} held out`).toBeLessThan(3 * sd);
    }
    expect(ids.filter((id) => isHeldOut("cross-sell", id, 0.1))).toEqual(ids.filter((id) => isHeldOut("cross-sell", id, 0.1)));
    expect(ids.some((id) => isHeldOut("cross-sell", id, 0))).toBe(false);
    expect(ids.every((id) => isHeldOut("cross-sell", id, 1))).toBe(true);
  });

  it("draws each playbook's group independently", () => {
    const a = new Set(ids.filter((id) => isHeldOut("win-back-at-risk", id, 0.1)));
    const both = ids.filter((id) => a.has(id) && isHeldOut("cross-sell", id, 0.1)).length;
    // Independent: about 1 % of customers are in both groups (100 ± 3 sd).
    expect(Math.abs(both - 100)).toBeLessThan(3 * Math.sqrt(10_000 * 0.01 * 0.99));
  });

  it("computes the uplift with Newcombe's hybrid score interval (his published examples)", () => {
    // Newcombe (1998), Statistics in Medicine 17:873, table II, method 10.
    const a = uplift({ customers: 70, converted: 56 }, { customers: 80, converted: 48 });
    expect(a.uplift).toBeCloseTo(0.2, 10);
    expect(a.low).toBeCloseTo(0.0524, 4);
    expect(a.high).toBeCloseTo(0.3339, 4);
    const b = uplift({ customers: 10, converted: 9 }, { customers: 10, converted: 3 });
    expect(b.low).toBeCloseTo(0.1705, 4);
    expect(b.high).toBeCloseTo(0.809, 3);
    expect(uplift({ customers: 10, converted: 1 }, { customers: 0, converted: 0 })).toMatchObject({ low: undefined, high: undefined });
  });
});
