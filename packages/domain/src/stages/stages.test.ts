import { describe, expect, it } from "vitest";
import { decideTransition, type CurrentStage } from "./decide-transition.js";
import { deriveStage } from "./derive-stage.js";
import type { StageFacts } from "./stage-facts.js";
import { DEFAULT_STAGE_RULES, StageRules } from "./stage-rules.js";

const rules = DEFAULT_STAGE_RULES;
const t = (iso: string) => new Date(`${iso}T00:00:00Z`);
const days = (from: string, n: number) => new Date(t(from).getTime() + n * 86_400_000);
const base: StageFacts = { firstSeenAt: t("2025-01-01"), purchaseCount: 0, unansweredTicketsOpenedAt: [] };
const bought = (count: number, first: string, last = first): StageFacts => ({ ...base, purchaseCount: count, firstPurchaseAt: t(first), lastPurchaseAt: t(last) });
const stageAt = (facts: StageFacts, now: Date) => deriveStage({ facts, now, rules });

/** Replays the clock over a list of (facts, now) observations, like the engine does, collecting transitions. */
function walk(steps: [StageFacts, Date][]) {
  let current: CurrentStage | undefined;
  const out: string[] = [];
  for (const [facts, now] of steps) {
    const derived = stageAt(facts, now);
    const tr = decideTransition({ current, derived, lastPurchaseAt: facts.lastPurchaseAt, now });
    if (tr) {
      out.push(`${tr.from ?? "∅"}→${tr.to} ${tr.reason} @${tr.at.toISOString().slice(0, 10)}`);
      current = { stage: tr.to, since: tr.at };
    }
  }
  return out;
}

describe("stage rules (CONTRACT.md section 2), fixed clock", () => {
  it("a known customer with no purchase is a prospect: registered, or first contact by ticket or survey", () => {
    expect(stageAt({ ...base, registeredAt: t("2025-01-02") }, t("2025-02-01"))).toMatchObject({ stage: "prospect", reason: "registered", since: t("2025-01-02") });
    expect(stageAt(base, t("2025-02-01"))).toMatchObject({ stage: "prospect", reason: "first-contact", since: t("2025-01-01") });
  });

  it("one purchase is new, two or more is repeat; the windows set the next review", () => {
    expect(stageAt(bought(1, "2025-03-01"), t("2025-03-02"))).toEqual({ stage: "new", reason: "first-purchase", since: t("2025-03-01"), reviewAt: days("2025-03-01", 90) });
    expect(stageAt(bought(2, "2025-03-01", "2025-04-01"), t("2025-04-02"))).toMatchObject({ stage: "repeat", reason: "repeat-purchase", since: t("2025-04-01") });
  });

  it("inactivity: at risk from day 90 after the last purchase, churned from day 180", () => {
    const f = bought(2, "2025-01-01", "2025-02-01");
    expect(stageAt(f, days("2025-02-01", 89)).stage).toBe("repeat");
    expect(stageAt(f, days("2025-02-01", 90))).toEqual({ stage: "at-risk", reason: "inactive-90d", since: days("2025-02-01", 90), reviewAt: days("2025-02-01", 180) });
    expect(stageAt(f, days("2025-02-01", 179)).stage).toBe("at-risk");
    expect(stageAt(f, days("2025-02-01", 180))).toEqual({ stage: "churned", reason: "inactive-180d", since: days("2025-02-01", 180) });
  });

  it("windows come from configuration and appear in the reason", () => {
    const custom = StageRules.parse({ atRiskAfterDays: 30, churnAfterDays: 60 });
    const f = bought(1, "2025-01-01");
    expect(deriveStage({ facts: f, now: days("2025-01-01", 30), rules: custom })).toMatchObject({ stage: "at-risk", reason: "inactive-30d" });
    expect(deriveStage({ facts: f, now: days("2025-01-01", 60), rules: custom })).toMatchObject({ stage: "churned", reason: "inactive-60d" });
    expect(StageRules.safeParse({ atRiskAfterDays: 200 }).success).toBe(false);
  });

  it("a fitted model replaces the fixed window by the customer's own rhythm (P(alive) below the threshold)", () => {
    const f = { ...bought(5, "2025-01-01", "2025-02-01"), pAliveBelowThresholdAt: days("2025-02-01", 20) };
    expect(stageAt(f, days("2025-02-01", 19)).stage).toBe("repeat");
    expect(stageAt(f, days("2025-02-01", 20))).toMatchObject({ stage: "at-risk", reason: "p-alive-below-0.5", since: days("2025-02-01", 20) });
    // a slow but steady buyer may stay repeat past 90 days
    const slow = { ...bought(5, "2024-01-01", "2025-02-01"), pAliveBelowThresholdAt: days("2025-02-01", 120) };
    expect(stageAt(slow, days("2025-02-01", 100)).stage).toBe("repeat");
    // the churn window still applies
    expect(stageAt({ ...slow, pAliveBelowThresholdAt: days("2025-02-01", 400) }, days("2025-02-01", 180)).stage).toBe("churned");
  });

  it.each([
    ["detractor-score", { latestDetractorAt: t("2025-03-10") }],
    ["low-csat", { latestLowCsatAt: t("2025-03-10") }],
    ["high-effort", { latestHighCesAt: t("2025-03-10") }],
    ["ticket-reopened", { latestTicketReopenedAt: t("2025-03-10") }],
  ] as const)("a recent negative signal (%s) puts a buyer at risk for 30 days", (reason, signal) => {
    const f = { ...bought(2, "2025-01-01", "2025-03-01"), ...signal };
    expect(stageAt(f, t("2025-03-09")).stage).toBe("repeat");
    expect(stageAt(f, t("2025-03-10"))).toEqual({ stage: "at-risk", reason, since: t("2025-03-10"), reviewAt: days("2025-03-10", 30) });
    expect(stageAt(f, days("2025-03-10", 30))).toMatchObject({ stage: "repeat", since: days("2025-03-10", 30) });
  });

  it("a ticket unanswered past the 2-hour target is a negative signal; answering it clears it", () => {
    const opened = new Date("2025-03-10T09:00:00Z");
    const f = { ...bought(1, "2025-03-01"), unansweredTicketsOpenedAt: [opened] };
    expect(stageAt(f, new Date("2025-03-10T10:59:59Z"))).toMatchObject({ stage: "new", reviewAt: new Date("2025-03-10T11:00:00Z") });
    expect(stageAt(f, new Date("2025-03-10T11:00:00Z"))).toMatchObject({ stage: "at-risk", reason: "ticket-unanswered" });
    expect(stageAt({ ...f, unansweredTicketsOpenedAt: [] }, new Date("2025-03-10T11:00:00Z")).stage).toBe("new");
  });

  it("signals before the last purchase do not count: buying again is the way back", () => {
    const f = { ...bought(3, "2025-01-01", "2025-03-20"), latestDetractorAt: t("2025-03-10") };
    expect(stageAt(f, t("2025-03-21")).stage).toBe("repeat");
  });

  it("customer.cancelled churns at once, for a buyer or a prospect, until a later purchase", () => {
    expect(stageAt({ ...bought(2, "2025-01-01", "2025-02-01"), cancelledAt: t("2025-02-05") }, t("2025-02-06"))).toEqual({ stage: "churned", reason: "cancelled", since: t("2025-02-05") });
    expect(stageAt({ ...base, cancelledAt: t("2025-01-05") }, t("2025-02-06")).stage).toBe("churned");
    expect(stageAt({ ...bought(3, "2025-01-01", "2025-03-01"), cancelledAt: t("2025-02-05") }, t("2025-03-02")).stage).toBe("repeat");
  });

  it("the stage is a function of the facts and the clock: asking twice, or in another order, gives the same", () => {
    const f = { ...bought(2, "2025-01-01", "2025-02-01"), latestLowCsatAt: t("2025-02-03"), unansweredTicketsOpenedAt: [t("2025-02-02")] };
    const nows = [t("2025-02-02"), t("2025-02-10"), t("2025-04-01"), t("2025-06-01"), t("2025-09-01")];
    const forward = nows.map((n) => stageAt(f, n));
    const backward = [...nows].reverse().map((n) => stageAt(f, n)).reverse();
    expect(backward).toEqual(forward);
    expect(forward.map((s) => s.stage)).toEqual(["repeat", "at-risk", "repeat", "at-risk", "churned"]);
  });
});

describe("transitions: every one, and the way back", () => {
  it("walks prospect → new → repeat → at-risk → churned → new (reactivated), with reasons and event times", () => {
    const prospect = { ...base, registeredAt: t("2025-01-01") };
    const one = { ...prospect, ...bought(1, "2025-01-10") };
    const two = { ...prospect, ...bought(2, "2025-01-10", "2025-02-01") };
    const back = { ...prospect, ...bought(3, "2025-01-10", "2025-12-01") };
    expect(
      walk([
        [prospect, t("2025-01-02")],
        [one, t("2025-01-11")],
        [two, t("2025-02-02")],
        [two, days("2025-02-01", 95)],
        [two, days("2025-02-01", 200)],
        [back, t("2025-12-02")],
      ]),
    ).toEqual([
      "∅→prospect registered @2025-01-01",
      "prospect→new first-purchase @2025-01-10",
      "new→repeat repeat-purchase @2025-02-01",
      "repeat→at-risk inactive-90d @2025-05-02",
      "at-risk→churned inactive-180d @2025-07-31",
      "churned→repeat reactivated @2025-12-01",
    ]);
  });

  it("at-risk → repeat by a purchase is a reactivation; by a signal running out, signal-expired", () => {
    const atRisk = { ...bought(2, "2025-01-01", "2025-02-01"), latestDetractorAt: t("2025-02-10") };
    expect(walk([[atRisk, t("2025-02-11")], [{ ...atRisk, purchaseCount: 3, lastPurchaseAt: t("2025-02-20") }, t("2025-02-21")]])).toEqual([
      "∅→at-risk detractor-score @2025-02-10",
      "at-risk→repeat reactivated @2025-02-20",
    ]);
    expect(walk([[atRisk, t("2025-02-11")], [atRisk, t("2025-03-20")]])).toEqual(["∅→at-risk detractor-score @2025-02-10", "at-risk→repeat signal-expired @2025-03-12"]);
  });

  it("at-risk by an unanswered ticket → back when it is answered: signal-cleared, when observed (not a reactivation)", () => {
    const opened = new Date("2025-03-10T09:00:00Z");
    const waiting = { ...bought(2, "2025-03-01", "2025-03-05"), unansweredTicketsOpenedAt: [opened] };
    const answered = { ...waiting, unansweredTicketsOpenedAt: [] };
    expect(walk([[waiting, t("2025-03-11")], [answered, t("2025-03-12")]])).toEqual(["∅→at-risk ticket-unanswered @2025-03-10", "at-risk→repeat signal-cleared @2025-03-12"]);
  });

  it("new → at-risk → churned by cancellation → new again on a later purchase", () => {
    const one = bought(1, "2025-01-01");
    const cancelled = { ...one, cancelledAt: t("2025-05-01") };
    expect(walk([[one, t("2025-01-02")], [one, t("2025-04-15")], [cancelled, t("2025-05-02")], [{ ...cancelled, purchaseCount: 2, lastPurchaseAt: t("2025-06-01") }, t("2025-06-02")]])).toEqual([
      "∅→new first-purchase @2025-01-01",
      "new→at-risk inactive-90d @2025-04-01",
      "at-risk→churned cancelled @2025-05-01",
      "churned→repeat reactivated @2025-06-01",
    ]);
  });

  it("no transition when the stage is unchanged, even if the reason differs", () => {
    const derived = stageAt(bought(2, "2025-01-01", "2025-02-01"), t("2025-02-02"));
    expect(decideTransition({ current: { stage: "repeat", since: t("2025-01-15") }, derived, lastPurchaseAt: t("2025-02-01"), now: t("2025-02-02") })).toBeUndefined();
  });
});
