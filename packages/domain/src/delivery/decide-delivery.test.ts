import { describe, expect, it } from "vitest";
import { decideDelivery, DeliverySettings, type DeliveryInput } from "./decide-delivery.js";
import { isHeldOut } from "./holdout.js";

const settings = DeliverySettings.parse({});
const noon = new Date("2026-07-01T12:00:00Z");
const input = (over: Partial<DeliveryInput> & { channel?: "email" | "webhook" | "log"; playbook?: string } = {}): DeliveryInput => {
  const { channel = "email", playbook = "win-back-at-risk", ...rest } = over;
  return {
    job: { id: "j1", customerId: "c-1", channel, playbook, priority: 5, dueAt: noon },
    purpose: "marketing",
    holdoutShare: 0,
    consent: { status: "granted" },
    timeZone: "UTC",
    sentMarketing: [],
    dueMarketing: [],
    now: noon,
    settings,
    ...rest,
  };
};

describe("deciding a delivery", () => {
  it("sends marketing with consent at noon local", () => {
    expect(decideDelivery(input())).toEqual({ kind: "send" });
  });

  it("skips marketing without consent (opt-in by default) but sends a transactional message", () => {
    expect(decideDelivery(input({ consent: undefined }))).toMatchObject({ kind: "skip", why: expect.stringMatching(/^no-consent/) });
    expect(decideDelivery(input({ consent: { status: "withdrawn" }, purpose: "transactional" }))).toEqual({ kind: "send" });
  });

  it("defers into the morning of the customer's own time zone", () => {
    // 12:00 UTC is 22:00 in Sydney (AEST, +10): deferred to 08:00 there, 22:00 UTC.
    expect(decideDelivery(input({ timeZone: "Australia/Sydney" }))).toEqual({ kind: "defer", until: new Date("2026-07-01T22:00:00Z"), why: "quiet hours 21:00–08:00 in Australia/Sydney" });
    // Without a time zone of its own, the default applies.
    expect(decideDelivery(input({ timeZone: undefined, settings: { ...settings, defaultTimeZone: "Asia/Tokyo" } }))).toMatchObject({ kind: "defer" });
  });

  it("caps marketing across playbooks; transactional messages are not counted or capped", () => {
    const sent = [{ at: new Date("2026-06-29T10:00:00Z"), playbook: "cross-sell" }, { at: new Date("2026-06-30T10:00:00Z"), playbook: "referral-invitation" }];
    expect(decideDelivery(input({ sentMarketing: sent }))).toMatchObject({ kind: "skip", why: expect.stringMatching(/^frequency-cap/) });
    expect(decideDelivery(input({ sentMarketing: sent, purpose: "transactional" }))).toEqual({ kind: "send" });
  });

  it("holds out the playbook's control group after consent, before the cap", () => {
    const heldOut = Array.from({ length: 200 }, (_, i) => `c-${i}`).find((id) => isHeldOut("win-back-at-risk", id, 0.1)) ?? "";
    const job = { id: "j1", customerId: heldOut, channel: "email" as const, playbook: "win-back-at-risk", priority: 5, dueAt: noon };
    expect(decideDelivery(input({ job, holdoutShare: 0.1 }))).toMatchObject({ kind: "held-out" });
    expect(decideDelivery(input({ job, holdoutShare: 0.1, consent: undefined }))).toMatchObject({ kind: "skip" });
    expect(decideDelivery(input({ job, holdoutShare: 0 }))).toEqual({ kind: "send" });
  });

  it("leaves quiet hours to the receiver of a webhook (it gets the time zone), still checking consent and the cap", () => {
    expect(decideDelivery(input({ channel: "webhook", timeZone: "Australia/Sydney" }))).toEqual({ kind: "send" });
    expect(decideDelivery(input({ channel: "webhook", consent: undefined }))).toMatchObject({ kind: "skip", why: expect.stringMatching(/^no-consent/) });
  });

  it("applies only the holdout to the log channel, which reaches nobody", () => {
    expect(decideDelivery(input({ channel: "log", consent: undefined, timeZone: "Australia/Sydney" }))).toEqual({ kind: "send" });
  });
});
