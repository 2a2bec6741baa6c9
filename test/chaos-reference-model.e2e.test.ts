import type { Pool } from "@lifecycle/db";
import { EngineSettings } from "@lifecycle/domain";
import { createClock, type Clock } from "@lifecycle/engine";
import { LifecycleEvent, seededRandom, syntheticEvents } from "@lifecycle/events";
import { applyEvents, createApplyDeps } from "@lifecycle/pipeline";
import { describe, expect, test, withTestDatabase } from "@lifecycle/testkit";
import { compareCustomers } from "../bench/chaos/compare-customers.js";
import { referenceFacts, referenceStage } from "../bench/chaos/reference-model.js";
import { loadStoredCustomers } from "../bench/chaos/stored-customers.js";

// Issue 16: the chaos soak's checker knows the right answer without Postgres. This proves its
// reference model against the real pipeline: the same events, duplicated, shuffled and applied in
// random batches (some at once, as partitions are), leave in Postgres exactly what the model
// computes, stage included; and a corrupted value is reported, so the check can fail.

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;


/** The events with about a fifth sent twice (identical copies, as a redelivery sends them), shuffled. */
function chaoticDelivery(events: readonly LifecycleEvent[], seed: number): LifecycleEvent[] {
  const rnd = seededRandom(seed);
  const sent = [...events, ...events.filter(() => rnd() < 0.2).map((e) => structuredClone(e))];
  for (let i = sent.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    const [a, b] = [sent[i]!, sent[j]!];
    [sent[i], sent[j]] = [b, a];
  }
  return sent;
}

/** Cuts the stream into batches of 1 to 300 events and applies them three at a time, like three partitions. */
async function applyInRandomBatches({ pool, clock, settings, rates, events, seed }: { pool: Pool; clock: Clock; settings: EngineSettings; rates: Record<string, string>; events: readonly LifecycleEvent[]; seed: number }) {
  const rnd = seededRandom(seed);
  const batches: LifecycleEvent[][] = [];
  for (let i = 0; i < events.length; ) {
    const size = 1 + Math.floor(rnd() * 300);
    batches.push(events.slice(i, i + size));
    i += size;
  }
  const deps = createApplyDeps({ pool, rates, clock, settings, modelCacheMs: 0 });
  let offset = 0;
  const lane = async (partition: number) => {
    for (let batch = batches.shift(); batch; batch = batches.shift()) {
      await applyEvents(deps, batch.map((event) => ({ event, topic: "t", partition, offset: offset++ })));
    }
  };
  await Promise.all([0, 1, 2].map(lane));
}

const synthetic = (o: { seed: number; customers: number; count: number; from: Date; to: Date; prefix: string }) =>
  [...syntheticEvents({ seed: o.seed, customers: o.customers, count: o.count, start: o.from, end: o.to, prefix: o.prefix })].map((e) => LifecycleEvent.parse(e));

/** Events of one customer at given times before `now`. */
function customerEvents(customer: string, now: Date) {
  let n = 0;
  return (ago: number, type: string, data: Record<string, unknown>) =>
    LifecycleEvent.parse({ specversion: "1.0", id: `${customer}-e${++n}`, source: "test", subject: customer, time: new Date(now.getTime() - ago).toISOString(), type, data });
}

/**
 * One customer per stage reason the rules know without a fitted model, so the second case cannot
 * pass on stages that happen to agree; and the corners of the facts' merges: an order re-sent in
 * the same millisecond under another id (the smaller id's version stands), amounts at a rate that
 * needs rounding, a response before the opening it answers, a reopening after the resolution.
 */
function stageCorners(now: Date): LifecycleEvent[] {
  const buy = (orderId: string, amount = "10.00", currency = "USD") => ({ orderId, amount, currency });
  const cases: [string, (ev: ReturnType<typeof customerEvents>) => LifecycleEvent[]][] = [
    ["prospect", (ev) => [ev(5 * DAY_MS, "customer.registered", { acquisitionChannel: "seo" })]],
    ["first-contact", (ev) => [ev(DAY_MS, "ticket.opened", { ticketId: "t1" })]],
    ["new", (ev) => [ev(3 * DAY_MS, "purchase.completed", buy("o1", "19.99", "EUR"))]],
    ["repeat", (ev) => [ev(40 * DAY_MS, "purchase.completed", buy("o1")), ev(2 * DAY_MS, "purchase.completed", buy("o2", "0.0005", "EUR"))]],
    ["cancelled", (ev) => [ev(20 * DAY_MS, "purchase.completed", buy("o1")), ev(DAY_MS, "customer.cancelled", { reason: "subscription-ended" })]],
    ["cancelled-prospect", (ev) => [ev(2 * DAY_MS, "customer.registered", {}), ev(DAY_MS, "customer.cancelled", {})]],
    ["inactive-90d", (ev) => [ev(100 * DAY_MS, "purchase.completed", buy("o1"))]],
    ["inactive-180d", (ev) => [ev(200 * DAY_MS, "purchase.completed", buy("o1")), ev(250 * DAY_MS, "purchase.completed", buy("o2"))]],
    ["detractor", (ev) => [ev(10 * DAY_MS, "purchase.completed", buy("o1")), ev(5 * DAY_MS, "survey.responded", { kind: "nps", score: 3 })]],
    ["low-csat", (ev) => [ev(10 * DAY_MS, "purchase.completed", buy("o1")), ev(5 * DAY_MS, "survey.responded", { kind: "csat", score: 2 })]],
    ["high-effort", (ev) => [ev(10 * DAY_MS, "purchase.completed", buy("o1")), ev(5 * DAY_MS, "survey.responded", { kind: "ces", score: 7 })]],
    ["signal-before-buy", (ev) => [ev(10 * DAY_MS, "survey.responded", { kind: "nps", score: 0 }), ev(5 * DAY_MS, "purchase.completed", buy("o1"))]],
    ["unanswered", (ev) => [ev(5 * DAY_MS, "purchase.completed", buy("o1")), ev(3 * HOUR_MS, "ticket.opened", { ticketId: "t1" })]],
    ["not-yet-unanswered", (ev) => [ev(5 * DAY_MS, "purchase.completed", buy("o1")), ev(HOUR_MS, "ticket.opened", { ticketId: "t1" })]],
    [
      "reopened",
      (ev) => [
        ev(5 * DAY_MS, "purchase.completed", buy("o1")),
        // The response's time is before the opening's: the ticket is answered all the same.
        ev(3 * DAY_MS, "ticket.responded", { ticketId: "t1" }),
        ev(2 * DAY_MS, "ticket.opened", { ticketId: "t1" }),
        ev(2 * DAY_MS - HOUR_MS, "ticket.resolved", { ticketId: "t1", contacts: 2 }),
        ev(DAY_MS, "ticket.reopened", { ticketId: "t1" }),
      ],
    ],
    [
      "same-ms-versions",
      (ev) => {
        const [a, b] = [ev(DAY_MS, "purchase.completed", buy("o1", "50.00")), ev(DAY_MS, "purchase.completed", buy("o1", "70.00"))];
        return [{ ...b, id: "corner-same-ms-b" }, { ...a, id: "corner-same-ms-a" }, ev(HOUR_MS, "purchase.refunded", buy("o1", "12.3456", "EUR"))];
      },
    ],
  ];
  return cases.flatMap(([name, events]) => events(customerEvents(`corner-${name}`, now)));
}

describe("the chaos soak's reference model against the real pipeline", { timeout: 90_000 }, () => {
  test("thousands of events, duplicated, shuffled, in random concurrent batches: Postgres holds exactly the model's facts and stages; a corrupted value is reported", async ({ infra }) => {
    await withTestDatabase(infra.postgres.adminUrl, async ({ pool }) => {
      const settings = EngineSettings.parse({});
      const rates = { USD: "1" };
      const now = Date.now();
      const events = synthetic({ seed: 16, customers: 300, count: 4000, from: new Date(now - DAY_MS), to: new Date(now - 1_000), prefix: "chaos-" });
      const sent = chaoticDelivery(events, 1);
      await applyInRandomBatches({ pool, clock: createClock({ mode: "wall" }), settings, rates, events: sent, seed: 2 });

      const reference = referenceFacts(sent, { rates, settings });
      expect(reference.size).toBe(300);
      expect(compareCustomers(reference, await loadStoredCustomers(pool, settings), settings)).toEqual([]);

      // Corrupt one revenue by a ten-thousandth and another buyer's stage (a buyer is never a
      // prospect): exactly those two are reported, and a customer missing on one side.
      const [rich, other] = [...reference.values()].filter((f) => f.purchaseCount > 0);
      if (!rich || !other) throw new Error("the stream has buyers");
      await pool.query("UPDATE customers SET revenue = revenue + 0.0001 WHERE customer_id = $1", [rich.customerId]);
      await pool.query("UPDATE customers SET stage = 'prospect' WHERE customer_id = $1", [other.customerId]);
      const corrupted = await loadStoredCustomers(pool, settings);
      const { evaluatedAt } = corrupted.get(other.customerId) ?? {};
      expect(compareCustomers(reference, corrupted, settings)).toEqual([
        { customerId: rich.customerId, field: "revenue", expected: rich.revenue, actual: (Number(rich.revenue) + 0.0001).toFixed(4) },
        { customerId: other.customerId, field: "stage", expected: referenceStage(other, { now: evaluatedAt ?? new Date() }, settings).stage, actual: "prospect" },
      ]);
      corrupted.delete(other.customerId);
      expect(compareCustomers(reference, corrupted, settings)).toEqual([
        { customerId: rich.customerId, field: "revenue", expected: rich.revenue, actual: (Number(rich.revenue) + 0.0001).toFixed(4) },
        { customerId: other.customerId, field: "customer", expected: "present", actual: "absent" },
      ]);
    });
  });

  test("history over ten months, a second currency and a margin: every stage and reason, evaluated at moving clocks, as the model says", async ({ infra }) => {
    await withTestDatabase(infra.postgres.adminUrl, async ({ pool }) => {
      const settings = EngineSettings.parse({ clv: { margin: 0.35 } });
      const rates = { USD: "1", EUR: "1.0837" };
      // Each batch is evaluated a minute later than the one before: rows carry different evaluated_at.
      const start = Math.floor(Date.now() / HOUR_MS) * HOUR_MS - DAY_MS;
      let batch = 0;
      const clock = createClock({ mode: "wall", wallNow: () => new Date(start + 60_000 * batch++) });
      const now = new Date(start);
      const events = [
        ...synthetic({ seed: 61, customers: 400, count: 2500, from: new Date(start - 300 * DAY_MS), to: now, prefix: "hist-" }),
        ...stageCorners(now),
      ];
      const sent = chaoticDelivery(events, 3);
      await applyInRandomBatches({ pool, clock, settings, rates, events: sent, seed: 4 });

      const reference = referenceFacts(sent, { rates, settings });
      const stored = await loadStoredCustomers(pool, settings);
      expect(compareCustomers(reference, stored, settings)).toEqual([]);

      // The model's arithmetic, spelled out for two corners: 19.99 EUR × 1.0837 = 21.663163 → 21.6632,
      // historical CLV 21.6632 × 0.35 = 7.58212 → 7.58; the same-millisecond order keeps id …-a (50.00),
      // the refund 12.3456 × 1.0837 = 13.37892672 → 13.3789, CLV (50 − 13.3789) × 0.35 = 12.817385 → 12.82.
      expect(reference.get("corner-new")).toMatchObject({ revenue: "21.6632", historicalClv: "7.5800" });
      expect(reference.get("corner-same-ms-versions")).toMatchObject({ purchaseCount: 1, revenue: "50.0000", refunded: "13.3789", historicalClv: "12.8200" });
      expect(reference.get("corner-reopened")).toMatchObject({ openTickets: 1, unansweredTicketsOpenedAt: [] });

      // Every stage and reason occurs, and at the stored clocks.
      const reasons = new Set(
        [...reference.values()].map((f) => {
          const s = stored.get(f.customerId)!;
          const { stage, reason } = referenceStage(f, { now: s.evaluatedAt!, pAliveBelowAt: s.pAliveBelowAt }, settings);
          return `${stage}:${reason}`;
        }),
      );
      expect([...reasons].sort()).toEqual(
        expect.arrayContaining([
          "prospect:registered",
          "prospect:first-contact",
          "new:first-purchase",
          "repeat:repeat-purchase",
          "churned:cancelled",
          "churned:inactive-180d",
          "at-risk:inactive-90d",
          "at-risk:detractor-score",
          "at-risk:low-csat",
          "at-risk:high-effort",
          "at-risk:ticket-unanswered",
          "at-risk:ticket-reopened",
        ]),
      );
    });
  });
});
