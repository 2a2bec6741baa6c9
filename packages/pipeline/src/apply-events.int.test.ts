import fc from "fast-check";
import type { Pool } from "@lifecycle/db";
import { createClock } from "@lifecycle/engine";
import type { LifecycleEvent } from "@lifecycle/events";
import { arbitraryHistory, arbitraryIdentityHistory, describe, expect, stateSnapshot, test } from "@lifecycle/testkit";
import { applyEvents, createApplyDeps, type AcceptedEvent, type ApplyDeps } from "./apply-events.js";

const rates = { USD: "1", EUR: "1.1" };
let run = 0;

/** Apply deps with a fixed clock the test moves, so runs evaluated at the same "now" can be compared. */
const applyDeps = (pool: Pool, clock: { now: Date }): ApplyDeps =>
  createApplyDeps({ pool, rates, clock: createClock({ mode: "wall", wallNow: () => clock.now }), modelCacheMs: 0 });

/** An event under a run prefix: its id, its subject and the customer ids in its data. */
function prefixed(e: LifecycleEvent, prefix: string): LifecycleEvent {
  const at = { ...e, id: prefix + e.id, subject: prefix + e.subject };
  if (at.type === "customer.identified") return { ...at, data: { ids: at.data.ids.map((id) => prefix + id) } };
  if (at.type === "customer.merged") return { ...at, data: { ...at.data, mergedIds: at.data.mergedIds.map((id) => prefix + id) } };
  return at;
}

/** The same events under a run prefix (customer and event ids), as Kafka would deliver them. */
function delivered(events: readonly LifecycleEvent[], prefix: string): AcceptedEvent[] {
  return events.map((e, offset) => ({ event: prefixed(e, prefix), topic: "t", partition: 0, offset }));
}

async function applyInBatches(deps: ApplyDeps, events: AcceptedEvent[], sizes: number[]) {
  for (let i = 0, b = 0; i < events.length; b++) {
    const size = sizes.length ? (sizes[b % sizes.length] ?? 1) : events.length;
    await applyEvents(deps, events.slice(i, i + size));
    i += size;
  }
}

describe("applying events to customer state", () => {
  test.for([
    ["", arbitraryHistory, 100],
    // Some events under external ids, joined to customers by identify and merge events that
    // arrive anywhere in the stream: an alias's events, and the records a merge moves, end up
    // under the canonical customer as if they had been sent under it from the start.
    [" (with aliases and merges)", arbitraryIdentityHistory, 60],
  ] as const)("the same events in any order, any batching, with duplicates, give identical state%s", async ([, histories, numRuns], { database }) => {
    const clock = { now: new Date() };
    const deps = applyDeps(database.pool, clock);
    const scenario = histories.chain((history) =>
      fc.record({
        // Event times fall on 2026-03-01 between 00:00 and 11:00: these clocks see response
        // targets pass, signals expire, and the at-risk and churn windows run out.
        now: fc.constantFrom("2026-03-01T11:30:00Z", "2026-03-20T00:00:00Z", "2026-04-15T00:00:00Z", "2026-06-15T00:00:00Z", "2026-09-15T00:00:00Z"),
        history: fc.constant(history),
        shuffled: fc.shuffledSubarray(history, { minLength: history.length, maxLength: history.length }),
        duplicates: fc.array(fc.constantFrom(...history), { maxLength: 10 }),
        batchSizes: fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 1, maxLength: 6 }),
      }),
    );

    await fc.assert(
      fc.asyncProperty(scenario, async ({ now, history, shuffled, duplicates, batchSizes }) => {
        clock.now = new Date(now);
        const a = `r${++run}a-`;
        const b = `r${run}b-`;
        // Reference: every event once, in generation order, in one batch.
        await applyEvents(deps, delivered(history, a));
        // Same set: shuffled, re-sent events mixed in (also within a batch), arbitrary batches.
        const noisy = [...shuffled];
        duplicates.forEach((d, i) => noisy.splice((i * 7) % (noisy.length + 1), 0, d));
        await applyInBatches(deps, delivered(noisy, b), batchSizes);

        // Facts and everything derived at this clock: stage, predictions, health.
        expect(await stateSnapshot(database.pool, b, { derived: true })).toEqual(await stateSnapshot(database.pool, a, { derived: true }));
      }),
      { numRuns },
    );
  });

  test("facts match a hand-counted history", async ({ database }) => {
    const deps = applyDeps(database.pool, { now: new Date("2026-04-02T00:00:00Z") });
    const c = "hand-1";
    const at = (h: number) => `2026-04-01T${String(h).padStart(2, "0")}:00:00Z`;
    const base = { specversion: "1.0" as const, source: "t", subject: c };
    const history: LifecycleEvent[] = [
      { ...base, id: "h1", time: at(1), type: "customer.registered", data: { email: "old@x.io", acquisitionChannel: "seo" } },
      { ...base, id: "h2", time: at(2), type: "purchase.completed", data: { orderId: "A", amount: "10.00", currency: "USD" } },
      // The same order re-sent under a new event id, later and with another amount: ignored.
      { ...base, id: "h3", time: at(3), type: "purchase.completed", data: { orderId: "A", amount: "99.00", currency: "USD" } },
      { ...base, id: "h4", time: at(4), type: "purchase.completed", data: { orderId: "B", amount: "20.00", currency: "EUR" } },
      { ...base, id: "h5", time: at(5), type: "purchase.refunded", data: { orderId: "B", amount: "5.00", currency: "USD" } },
      { ...base, id: "h6", time: at(6), type: "ticket.opened", data: { ticketId: "T", channel: "chat" } },
      { ...base, id: "h7", time: at(7), type: "ticket.resolved", data: { ticketId: "T", contacts: 1 } },
      { ...base, id: "h8", time: at(8), type: "ticket.reopened", data: { ticketId: "T" } },
      { ...base, id: "h9", time: at(9), type: "survey.responded", data: { kind: "nps", score: 9 } },
      { ...base, id: "h10", time: at(10), type: "survey.responded", data: { kind: "nps", score: 3 } },
      { ...base, id: "h11", time: at(11), type: "customer.registered", data: { email: "new@x.io" } },
    ];
    // Delivered newest first, one event per batch (so versions of one order meet across
    // batches), and then all of it again.
    const reversed = delivered([...history].reverse(), "");
    for (const one of reversed) await applyEvents(deps, [one]);
    await applyEvents(deps, reversed);

    const { rows } = await database.pool.query("SELECT * FROM customers WHERE customer_id = $1", [c]);
    expect(rows[0]).toMatchObject({
      purchase_count: 2,
      revenue: "32.0000", // 10 USD + 20 EUR at 1.1
      refunded: "5.0000",
      first_purchase_at: new Date(at(2)),
      last_purchase_at: new Date(at(4)),
      tickets_total: 1,
      open_tickets: 1, // reopened after its resolution
      latest_nps: 3,
      email: "new@x.io", // the latest registration wins, whole
      acquisition_channel: null,
      registered_at: new Date(at(1)),
      purchase_days: 1, // both orders on 2026-04-01: one transaction for the CLV models
      repeat_day_spend_mean: "0.0000",
      historical_clv: "27.0000",
      // Bought, then an NPS detractor score after the last purchase, within 30 days of the clock.
      stage: "at-risk",
    });
    const stages = await database.pool.query("SELECT to_stage FROM stage_transitions WHERE customer_id = $1 ORDER BY id DESC LIMIT 1", [c]);
    expect(stages.rows).toEqual([{ to_stage: "at-risk" }]);
    // One thank-you, caused by the first purchase the service saw (h4: delivered newest first);
    // the earlier purchase arriving afterwards does not trigger a second.
    const outbox = await database.pool.query("SELECT dedupe_key, payload FROM outbox WHERE payload->>'playbook' = 'thank-you' AND payload->>'customerId' = $1", [c]);
    expect(outbox.rows).toEqual([{ dedupe_key: "fu|thank-you|hand-1|first-purchase", payload: expect.objectContaining({ causationId: "h4" }) }]);
    // The other follow-ups the events trigger, once each although every event arrived twice.
    const keys = await database.pool.query<{ dedupe_key: string }>("SELECT dedupe_key FROM outbox WHERE kind = 'follow-up' AND payload->>'customerId' = $1 ORDER BY dedupe_key", [c]);
    expect(keys.rows.map((r) => r.dedupe_key)).toEqual([
      "fu|csat-survey|hand-1|order-A",
      "fu|csat-survey|hand-1|order-B",
      "fu|csat-survey|hand-1|ticket-T", // after the resolution
      "fu|escalation|hand-1|ticket-T", // due when the response target passes (checked when it runs)
      "fu|recovery|hand-1|survey-h10", // NPS 3
      "fu|referral-invitation|hand-1|promoter-2026", // NPS 9
      "fu|thank-you|hand-1|first-purchase",
      // At risk since the reopened ticket (08:00, after the last purchase): a win-back offer.
      "fu|win-back-at-risk|hand-1|at-risk-2026-04-01T08%3A00%3A00.000Z",
    ]);
  });
});
