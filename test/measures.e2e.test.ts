import { createOutboxRepo, type Pool } from "@lifecycle/db";
import { EngineSettings } from "@lifecycle/domain";
import { createClock, createModelCache, createModelsRepo, sweepDueCustomers } from "@lifecycle/engine";
import { LifecycleEvent } from "@lifecycle/events";
import { describe, expect, test } from "@lifecycle/testkit";
import { applyEvents, createApplyDeps } from "@lifecycle/pipeline";
import { computeMeasures, MeasuresQuery, MeasuresQueryError, type Measures } from "@lifecycle/engine";

// The experience measures on real Postgres, from a hand-built history of nine customers applied
// through the ingest path. Every expected figure is counted by hand in the comments below.
//
// Clocks: the history up to February is applied at HISTORY (2025-02-01), so its stage changes
// are stored as they were then; March's events at NOW (2025-04-01), after which the sweep
// churns `cat` by inactivity. The main period is March: [2025-03-01, 2025-04-01).
//
// customer channel  events                                                   stage at NOW
// ann      ads      buys 01-10 (100), 03-05 12:00 (50); refund 20.01         repeat
//                   NPS 9 (02-20, outside), NPS 10, CSAT 5; t1 30 min, FCR
// bob      ads      buys 01-20 (40); NPS 3, CES 7 (03-12); t2 150 min, 3 contacts   at-risk (detractor)
// cat      organic  buys 2024-09-15 (20): at-risk 12-14, churns 03-14 (sweep)    churned
// dan      organic  buys 01-05 (30); CSAT 2; t6 opened 02-25 (20 min), resolved 03-02;
//                   cancels 03-20, buys 03-22 (45), cancels 03-25 (churned twice)  churned
// eve      (none)   buys 2024-06-01 (10, churned 2024-11-28); CES 4 at 03-01 00:00;
//                   buys 03-25 (60, referral code: not new, so not a referral)     repeat
// fay      ads      registers referred by ann, buys 03-03 (25); t3 unanswered      at-risk (ticket)
// gus      organic  buys 03-06 (80, referral code), 03-20 (23); t7 resolved, no reply  repeat
// hal      (none)   buys 03-10 (15); NPS 8, CSAT 4, CES 2; t4 opened 03-31 23:00    new
// ivy      ads      registers, no purchase; NPS 0; t5 90 min; t8 120 min, reopened;
//                   CSAT 1 at 04-01 00:00 (= to, outside)                          prospect

const HISTORY = new Date("2025-02-01T00:00:00Z");
const NOW = new Date("2025-04-01T00:00:00Z");
const MARCH = { from: new Date("2025-03-01T00:00:00Z"), to: NOW };
const settings = EngineSettings.parse({});

let seq = 0;
const event = (type: string, subject: string, time: string, data: Record<string, unknown>): LifecycleEvent =>
  LifecycleEvent.parse({ specversion: "1.0", id: `m-${++seq}`, source: "measures-test", type, subject, time, data });
const registered = (who: string, time: string, data: Record<string, unknown> = {}) => event("customer.registered", who, time, data);
const bought = (who: string, orderId: string, time: string, amount: string, referralCode?: string) =>
  event("purchase.completed", who, time, { orderId, amount, currency: "USD", ...(referralCode ? { referralCode } : {}) });
const survey = (who: string, time: string, kind: "nps" | "csat" | "ces", score: number) => event("survey.responded", who, time, { kind, score });
const ticket = (type: "opened" | "responded" | "reopened", who: string, ticketId: string, time: string) => event(`ticket.${type}`, who, time, { ticketId });
const resolved = (who: string, ticketId: string, time: string, contacts: number) => event("ticket.resolved", who, time, { ticketId, contacts });

const history = [
  registered("ann", "2024-12-01T12:00:00Z", { acquisitionChannel: "ads" }),
  bought("ann", "o1", "2025-01-10T12:00:00Z", "100.00"),
  registered("bob", "2024-12-15T12:00:00Z", { acquisitionChannel: "ads" }),
  bought("bob", "o3", "2025-01-20T12:00:00Z", "40.00"),
  registered("cat", "2024-09-01T12:00:00Z", { acquisitionChannel: "organic" }),
  bought("cat", "o4", "2024-09-15T12:00:00Z", "20.00"),
  registered("dan", "2024-11-01T12:00:00Z", { acquisitionChannel: "organic", referredBy: "zed" }),
  bought("dan", "o5", "2025-01-05T12:00:00Z", "30.00"),
  bought("eve", "o6", "2024-06-01T12:00:00Z", "10.00"),
];

const march = [
  bought("ann", "o2", "2025-03-05T12:00:00Z", "50.00"),
  event("purchase.refunded", "ann", "2025-03-07T12:00:00Z", { orderId: "o1", amount: "20.01", currency: "USD" }),
  survey("ann", "2025-02-20T12:00:00Z", "nps", 9),
  survey("ann", "2025-03-06T12:00:00Z", "nps", 10),
  survey("ann", "2025-03-06T12:00:00Z", "csat", 5),
  ticket("opened", "ann", "t1", "2025-03-10T10:00:00Z"),
  ticket("responded", "ann", "t1", "2025-03-10T10:30:00Z"),
  resolved("ann", "t1", "2025-03-10T12:00:00Z", 1),

  survey("bob", "2025-03-12T12:00:00Z", "nps", 3),
  survey("bob", "2025-03-12T12:00:00Z", "ces", 7),
  ticket("opened", "bob", "t2", "2025-03-12T09:00:00Z"),
  ticket("responded", "bob", "t2", "2025-03-12T11:30:00Z"),
  resolved("bob", "t2", "2025-03-14T09:00:00Z", 3),

  survey("dan", "2025-03-18T12:00:00Z", "csat", 2),
  ticket("opened", "dan", "t6", "2025-02-25T10:00:00Z"),
  ticket("responded", "dan", "t6", "2025-02-25T10:20:00Z"),
  resolved("dan", "t6", "2025-03-02T10:00:00Z", 1),
  event("customer.cancelled", "dan", "2025-03-20T12:00:00Z", {}),

  survey("eve", "2025-03-01T00:00:00Z", "ces", 4),
  bought("eve", "o7", "2025-03-25T12:00:00Z", "60.00", "FRIEND"),

  registered("fay", "2025-03-02T12:00:00Z", { acquisitionChannel: "ads", referredBy: "ann" }),
  bought("fay", "o8", "2025-03-03T12:00:00Z", "25.00"),
  ticket("opened", "fay", "t3", "2025-03-20T08:00:00Z"),

  registered("gus", "2025-03-05T12:00:00Z", { acquisitionChannel: "organic" }),
  bought("gus", "o9", "2025-03-06T12:00:00Z", "80.00", "SPRING10"),
  bought("gus", "o10", "2025-03-20T12:00:00Z", "23.00"),
  ticket("opened", "gus", "t7", "2025-03-15T10:00:00Z"),
  resolved("gus", "t7", "2025-03-15T10:05:00Z", 1),

  bought("hal", "o11", "2025-03-10T12:00:00Z", "15.00"),
  survey("hal", "2025-03-11T12:00:00Z", "nps", 8),
  survey("hal", "2025-03-11T12:00:00Z", "csat", 4),
  survey("hal", "2025-03-11T12:00:00Z", "ces", 2),
  ticket("opened", "hal", "t4", "2025-03-31T23:00:00Z"),

  registered("ivy", "2025-03-15T12:00:00Z", { acquisitionChannel: "ads" }),
  survey("ivy", "2025-03-16T12:00:00Z", "nps", 0),
  ticket("opened", "ivy", "t5", "2025-03-16T09:00:00Z"),
  ticket("responded", "ivy", "t5", "2025-03-16T10:30:00Z"),
  resolved("ivy", "t5", "2025-03-16T11:00:00Z", 1),
  ticket("opened", "ivy", "t8", "2025-03-26T10:00:00Z"),
  ticket("responded", "ivy", "t8", "2025-03-26T12:00:00Z"),
  resolved("ivy", "t8", "2025-03-27T10:00:00Z", 1),
  ticket("reopened", "ivy", "t8", "2025-03-28T10:00:00Z"),
  survey("ivy", "2025-04-01T00:00:00Z", "csat", 1),
];

async function apply(pool: Pool, at: Date, events: readonly LifecycleEvent[]) {
  const clock = createClock({ mode: "wall", wallNow: () => at });
  const deps = createApplyDeps({ pool, rates: { USD: "1" }, clock, modelCacheMs: 0 });
  await applyEvents(deps, events.map((e, i) => ({ event: e, topic: "t", partition: 0, offset: i })));
}

/** The history above, applied once per file; returns the sweep's result for the setup assertions. */
async function seed(pool: Pool) {
  await apply(pool, HISTORY, history);
  await apply(pool, NOW, march);
  // dan comes back and cancels again: separate batches, so each change is its own transition.
  await apply(pool, NOW, [bought("dan", "o12", "2025-03-22T12:00:00Z", "45.00")]);
  await apply(pool, NOW, [event("customer.cancelled", "dan", "2025-03-25T12:00:00Z", {})]);
  const repo = createModelsRepo(pool);
  const clock = createClock({ mode: "wall", wallNow: () => NOW });
  return sweepDueCustomers({ pool, outbox: createOutboxRepo(pool), clock, models: createModelCache({ repo, ttlMs: 0 }), settings });
}
let seeded: ReturnType<typeof seed> | undefined;

/** Measures with nothing counted: every ratio null. Expected groups override the families they have. */
const none: Measures = {
  nps: { score: null, responses: 0, promoters: 0, passives: 0, detractors: 0 },
  csat: { percent: null, responses: 0, satisfied: 0 },
  ces: { average: null, responses: 0 },
  churn: { ratePercent: null, activeAtStart: 0, lost: 0 },
  referral: { ratePercent: null, newCustomers: 0, referred: 0 },
  firstResponse: { medianMinutes: null, p90Minutes: null, responded: 0, withinTargetPercent: null, withinTarget: 0, judged: 0 },
  firstContactResolution: { ratePercent: null, resolved: 0, firstContact: 0 },
  repeatPurchase: { ratePercent: null, customers: 0, repeaters: 0 },
  clv: { customers: 0, averageHistorical: null, predictedCustomers: 0, averagePredicted: null },
};
const group = (key: string | null, m: Partial<Measures>) => ({ key, measures: { ...none, ...m } });
const clv = (customers: number, averageHistorical: string | null) => ({ customers, averageHistorical, predictedCustomers: 0, averagePredicted: null });

describe("experience measures over a period", () => {
  test("the history produces the stages and stage changes the expectations rely on", async ({ database }) => {
    const swept = await (seeded ??= seed(database.pool));
    // Only cat was due (its churn window ran out on 03-14 12:00): 1 evaluated, 1 transition.
    expect(swept).toMatchObject({ ran: true, evaluated: 1, transitions: 1 });
    const stages = await database.pool.query<{ customer_id: string; stage: string }>("SELECT customer_id, stage FROM customers ORDER BY customer_id");
    expect(stages.rows.map((r) => `${r.customer_id}:${r.stage}`)).toEqual([
      "ann:repeat", "bob:at-risk", "cat:churned", "dan:churned", "eve:repeat", "fay:at-risk", "gus:repeat", "hal:new", "ivy:prospect",
    ]);
    const churns = await database.pool.query("SELECT customer_id, event_time FROM stage_transitions WHERE to_stage = 'churned' ORDER BY event_time");
    expect(churns.rows).toEqual([
      { customer_id: "eve", event_time: new Date("2024-11-28T12:00:00Z") },
      { customer_id: "cat", event_time: new Date("2025-03-14T12:00:00Z") },
      { customer_id: "dan", event_time: new Date("2025-03-20T12:00:00Z") },
      { customer_id: "dan", event_time: new Date("2025-03-25T12:00:00Z") },
    ]);
  });

  test("overall, March", async ({ database }) => {
    await (seeded ??= seed(database.pool));
    const report = await computeMeasures({ db: database.pool, ...MARCH });
    expect(report).toMatchObject({ from: MARCH.from, to: MARCH.to, groupBy: null, responseTargetMinutes: 120 });
    expect(report.groups).toEqual([
      group(null, {
        // NPS [10 ann, 3 bob, 8 hal, 0 ivy]: (1 − 2) / 4 = −25. ann's 9 (02-20) is before the period.
        nps: { score: -25, responses: 4, promoters: 1, passives: 1, detractors: 2 },
        // CSAT [5 ann, 2 dan, 4 hal]: 2 of 3. ivy's 1 at 04-01 00:00 is at `to`: excluded.
        csat: { percent: 200 / 3, responses: 3, satisfied: 2 },
        // CES [7 bob, 4 eve at 03-01 00:00 (included), 2 hal] = 13 / 3
        ces: { average: 13 / 3, responses: 3 },
        // Active at 03-01: ann new, bob new, cat at-risk, dan new (eve churned in 2024; the rest
        // had no stage yet). Lost: cat (sweep, 03-14) and dan (03-20 and again 03-25: once). 2 / 4.
        churn: { ratePercent: 50, activeAtStart: 4, lost: 2 },
        // New: fay (referredBy), gus (code on his first order), hal (neither). eve is not new.
        referral: { ratePercent: 200 / 3, newCustomers: 3, referred: 2 },
        // Opened in March and answered: t1 30, t5 90, t8 120, t2 150 → median 105, p90 90% of the
        // way = 120 + 0.7 × 30 = 141. Judged: those 4 + t3 (unanswered, overdue at `to`) = 5; within
        // 120 min: t1, t5, t8 (exactly 120 counts) = 3. Not judged: t4 (1 h old at `to`), t7 (no reply).
        firstResponse: { medianMinutes: 105, p90Minutes: 141, responded: 4, withinTargetPercent: 60, withinTarget: 3, judged: 5 },
        // Resolved in March with contacts: t1 1, t2 3, t5 1, t6 1 (opened in Feb), t7 1; t8 reopened → out. 4 / 5.
        firstContactResolution: { ratePercent: 80, resolved: 5, firstContact: 4 },
        // Buyers before `to`: 8 (all but ivy); 2+ orders: ann, dan, eve, gus.
        repeatPurchase: { ratePercent: 50, customers: 8, repeaters: 4 },
        // 129.99 + 40 + 20 + 75 + 70 + 25 + 103 + 15 = 477.99 / 8 = 59.74875. No model fitted: no predictions.
        clv: clv(8, "59.75"),
      }),
    ]);
  });

  test("by current stage, March", async ({ database }) => {
    await (seeded ??= seed(database.pool));
    const report = await computeMeasures({ db: database.pool, ...MARCH, groupBy: "stage" });
    expect(report.groupBy).toBe("stage");
    expect(report.groups.map((g) => g.key)).toEqual([null, "prospect", "new", "repeat", "at-risk", "churned"]);
    expect(report.groups.slice(1)).toEqual([
      // ivy: NPS 0; t5 90 and t8 120 min (median 105, p90 90 + 0.9 × 30 = 117), both in time; t5 resolved first contact.
      group("prospect", {
        nps: { score: -100, responses: 1, promoters: 0, passives: 0, detractors: 1 },
        firstResponse: { medianMinutes: 105, p90Minutes: 117, responded: 2, withinTargetPercent: 100, withinTarget: 2, judged: 2 },
        firstContactResolution: { ratePercent: 100, resolved: 1, firstContact: 1 },
      }),
      // hal: NPS 8, CSAT 4, CES 2; new but not referred; one order; t4 not yet judgeable.
      group("new", {
        nps: { score: 0, responses: 1, promoters: 0, passives: 1, detractors: 0 },
        csat: { percent: 100, responses: 1, satisfied: 1 },
        ces: { average: 2, responses: 1 },
        referral: { ratePercent: 0, newCustomers: 1, referred: 0 },
        repeatPurchase: { ratePercent: 0, customers: 1, repeaters: 0 },
        clv: clv(1, "15.00"),
      }),
      // ann, eve, gus: ann NPS 10 and CSAT 5, eve CES 4; ann active at start and kept; gus new by
      // referral; t1 30 min; t1 and t7 first contact; all three bought twice; (129.99 + 70 + 103) / 3 = 100.9966…
      group("repeat", {
        nps: { score: 100, responses: 1, promoters: 1, passives: 0, detractors: 0 },
        csat: { percent: 100, responses: 1, satisfied: 1 },
        ces: { average: 4, responses: 1 },
        churn: { ratePercent: 0, activeAtStart: 1, lost: 0 },
        referral: { ratePercent: 100, newCustomers: 1, referred: 1 },
        firstResponse: { medianMinutes: 30, p90Minutes: 30, responded: 1, withinTargetPercent: 100, withinTarget: 1, judged: 1 },
        firstContactResolution: { ratePercent: 100, resolved: 2, firstContact: 2 },
        repeatPurchase: { ratePercent: 100, customers: 3, repeaters: 3 },
        clv: clv(3, "101.00"),
      }),
      // bob, fay: bob NPS 3, CES 7, active and kept; fay new by referral; t2 150 min late, t3 overdue;
      // t2 took 3 contacts; one order each; (40 + 25) / 2.
      group("at-risk", {
        nps: { score: -100, responses: 1, promoters: 0, passives: 0, detractors: 1 },
        ces: { average: 7, responses: 1 },
        churn: { ratePercent: 0, activeAtStart: 1, lost: 0 },
        referral: { ratePercent: 100, newCustomers: 1, referred: 1 },
        firstResponse: { medianMinutes: 150, p90Minutes: 150, responded: 1, withinTargetPercent: 0, withinTarget: 0, judged: 2 },
        firstContactResolution: { ratePercent: 0, resolved: 1, firstContact: 0 },
        repeatPurchase: { ratePercent: 0, customers: 2, repeaters: 0 },
        clv: clv(2, "32.50"),
      }),
      // cat, dan: dan CSAT 2; both active at start and both lost; t6 resolved first contact in
      // March; dan bought twice; (20 + 75) / 2. Grouped by *current* stage, the lost are here.
      group("churned", {
        csat: { percent: 0, responses: 1, satisfied: 0 },
        churn: { ratePercent: 100, activeAtStart: 2, lost: 2 },
        referral: { ratePercent: null, newCustomers: 0, referred: 0 },
        firstContactResolution: { ratePercent: 100, resolved: 1, firstContact: 1 },
        repeatPurchase: { ratePercent: 50, customers: 2, repeaters: 1 },
        clv: clv(2, "47.50"),
      }),
    ]);
    // The overall group does not depend on the grouping.
    expect(report.groups[0]).toEqual((await computeMeasures({ db: database.pool, ...MARCH })).groups[0]);
  });

  test("by acquisition channel, March; customers without one under (none)", async ({ database }) => {
    await (seeded ??= seed(database.pool));
    const report = await computeMeasures({ db: database.pool, ...MARCH, groupBy: "channel" });
    expect(report.groups.map((g) => g.key)).toEqual([null, "ads", "organic", "(none)"]);
    expect(report.groups.slice(1)).toEqual([
      // ann, bob, fay, ivy. NPS [10, 3, 0]: (1 − 2) / 3. t1, t2, t3, t5, t8 as overall. FCR: t1, t5 of
      // t1, t2, t5. Buyers ann, bob, fay: ann repeats. (129.99 + 40 + 25) / 3 = 64.9966…
      group("ads", {
        nps: { score: -100 / 3, responses: 3, promoters: 1, passives: 0, detractors: 2 },
        csat: { percent: 100, responses: 1, satisfied: 1 },
        ces: { average: 7, responses: 1 },
        churn: { ratePercent: 0, activeAtStart: 2, lost: 0 },
        referral: { ratePercent: 100, newCustomers: 1, referred: 1 },
        firstResponse: { medianMinutes: 105, p90Minutes: 141, responded: 4, withinTargetPercent: 60, withinTarget: 3, judged: 5 },
        firstContactResolution: { ratePercent: 200 / 3, resolved: 3, firstContact: 2 },
        repeatPurchase: { ratePercent: 100 / 3, customers: 3, repeaters: 1 },
        clv: clv(3, "65.00"),
      }),
      // cat, dan, gus. dan CSAT 2; cat and dan lost; gus new by referral code; t7 (no reply: not
      // timed) and t6 (opened in Feb: not timed) both resolved first contact; dan and gus repeat; 198 / 3.
      group("organic", {
        csat: { percent: 0, responses: 1, satisfied: 0 },
        churn: { ratePercent: 100, activeAtStart: 2, lost: 2 },
        referral: { ratePercent: 100, newCustomers: 1, referred: 1 },
        firstContactResolution: { ratePercent: 100, resolved: 2, firstContact: 2 },
        repeatPurchase: { ratePercent: 200 / 3, customers: 3, repeaters: 2 },
        clv: clv(3, "66.00"),
      }),
      // eve, hal. hal NPS 8, CSAT 4; CES [4, 2]; nobody active at start (eve had churned); hal new,
      // not referred; t4 not judgeable; eve repeats; (70 + 15) / 2.
      group("(none)", {
        nps: { score: 0, responses: 1, promoters: 0, passives: 1, detractors: 0 },
        csat: { percent: 100, responses: 1, satisfied: 1 },
        ces: { average: 3, responses: 2 },
        referral: { ratePercent: 0, newCustomers: 1, referred: 0 },
        repeatPurchase: { ratePercent: 50, customers: 2, repeaters: 1 },
        clv: clv(2, "42.50"),
      }),
    ]);
  });

  test("another period, ending exactly at ann's second order: boundaries are [from, to)", async ({ database }) => {
    await (seeded ??= seed(database.pool));
    const report = await computeMeasures({ db: database.pool, from: HISTORY, to: new Date("2025-03-05T12:00:00Z") });
    expect(report.groups).toEqual([
      group(null, {
        // ann's NPS 9 (02-20); eve's CES 4 (03-01)
        nps: { score: 100, responses: 1, promoters: 1, passives: 0, detractors: 0 },
        ces: { average: 4, responses: 1 },
        // Active at 02-01: ann, bob, cat, dan; nobody churned before 03-05 12:00: 0, not null.
        churn: { ratePercent: 0, activeAtStart: 4, lost: 0 },
        // New: fay (03-03, referred). gus (03-06) is after.
        referral: { ratePercent: 100, newCustomers: 1, referred: 1 },
        // t6: opened 02-25, answered in 20 min, resolved 03-02 in one contact.
        firstResponse: { medianMinutes: 20, p90Minutes: 20, responded: 1, withinTargetPercent: 100, withinTarget: 1, judged: 1 },
        firstContactResolution: { ratePercent: 100, resolved: 1, firstContact: 1 },
        // Buyers: ann, bob, cat, dan, eve, fay. ann's o2 is at `to` exactly: nobody has 2 orders before it.
        repeatPurchase: { ratePercent: 0, customers: 6, repeaters: 0 },
        // (129.99 + 40 + 20 + 75 + 70 + 25) / 6 = 59.99833…: current values, rounded to cents.
        clv: clv(6, "60.00"),
      }),
    ]);
  });

  test("a period with no data: only the overall group, every ratio null", async ({ database }) => {
    await (seeded ??= seed(database.pool));
    const report = await computeMeasures({ db: database.pool, from: new Date("2020-01-01T00:00:00Z"), to: new Date("2020-02-01T00:00:00Z"), groupBy: "channel" });
    expect(report.groups).toEqual([group(null, {})]);
  });

  test("a reversed or empty period, or an unknown grouping, is refused with a clear error", async ({ database }) => {
    const at = new Date("2025-03-01T00:00:00Z");
    await expect(computeMeasures({ db: database.pool, from: NOW, to: at })).rejects.toThrow(MeasuresQueryError);
    await expect(computeMeasures({ db: database.pool, from: at, to: at })).rejects.toThrow(/`from` must be before `to`/);
    expect(MeasuresQuery.safeParse({ from: at, to: NOW, groupBy: "region" }).success).toBe(false);
    expect(MeasuresQuery.safeParse({ from: at, to: NOW, responseTargetMinutes: 0 }).success).toBe(false);
  });
});
