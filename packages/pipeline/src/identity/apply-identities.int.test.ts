import { LifecycleEvent } from "@lifecycle/events";
import { describe, expect, test, uniqueName } from "@lifecycle/testkit";
import { applyEvents, createApplyDeps, type AcceptedEvent } from "../apply-events.js";
import { applyIsolatingPoison } from "../isolate-poison.js";
import { MAX_IDS_PER_CUSTOMER } from "./apply-identities.js";

let offset = 0;
const accepted = (events: LifecycleEvent[]): AcceptedEvent[] => events.map((event) => ({ event, topic: "t", partition: 0, offset: offset++ }));

describe("identity events at ingest", () => {
  test("a merge moves the records, publishes who points where, and a later merge of the survivor moves them on", async ({ database }) => {
    const run = uniqueName("m");
    const deps = createApplyDeps({ pool: database.pool, rates: { USD: "1" }, modelCacheMs: 0 });
    let n = 0;
    const ev = (subject: string, type: string, data: Record<string, unknown>) =>
      LifecycleEvent.parse({ specversion: "1.0", id: `${run}-${++n}`, source: "t", subject: `${run}-${subject}`, time: `2026-05-01T0${n}:00:00Z`, type, data });
    await applyEvents(deps, accepted([ev("a", "purchase.completed", { orderId: "1", amount: "10", currency: "USD" }), ev("b", "purchase.completed", { orderId: "2", amount: "5", currency: "USD" })]));
    await applyEvents(deps, accepted([ev("a", "customer.merged", { mergedIds: [`${run}-b`] })]));
    const messages = await database.pool.query<{ payload: { subject: string; data: { mergedIds: string[]; ids: string[] } } }>(
      "SELECT payload FROM outbox WHERE kind = 'customer-merged' AND payload->>'subject' LIKE $1 ORDER BY id",
      [`${run}-%`],
    );
    expect(messages.rows.map((r) => [r.payload.subject, r.payload.data.mergedIds, r.payload.data.ids])).toEqual([[`${run}-a`, [`${run}-b`], [`${run}-b`]]]);

    // c absorbs a (with b's records): the latest merge names the survivor.
    await applyEvents(deps, accepted([ev("c", "customer.merged", { mergedIds: [`${run}-a`] })]));
    const customers = await database.pool.query("SELECT customer_id, purchase_count, historical_clv::text FROM customers WHERE customer_id LIKE $1", [`${run}-%`]);
    expect(customers.rows).toEqual([{ customer_id: `${run}-c`, purchase_count: 2, historical_clv: "15.0000" }]);
    const aliases = await database.pool.query("SELECT alias_id, customer_id FROM customer_aliases WHERE alias_id LIKE $1 ORDER BY alias_id", [`${run}-%`]);
    expect(aliases.rows).toEqual([{ alias_id: `${run}-a`, customer_id: `${run}-c` }, { alias_id: `${run}-b`, customer_id: `${run}-c` }]);
    const moved = await database.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM stage_transitions WHERE customer_id IN ($1, $2)", [`${run}-a`, `${run}-b`]);
    expect(moved.rows[0]?.n).toBe(0);
  });

  test(`an identify that would give a customer more than ${MAX_IDS_PER_CUSTOMER} ids is dead-lettered; the rest of its batch is applied`, async ({ database }) => {
    const run = uniqueName("big");
    const deps = createApplyDeps({ pool: database.pool, rates: { USD: "1" }, modelCacheMs: 0 });
    // One shared e-mail claimed by one account after another: the set grows by one per identify.
    const identify = (i: number) =>
      LifecycleEvent.parse({ specversion: "1.0", id: `${run}-i${i}`, source: "t", subject: `${run}-acct${i}`, time: "2026-05-01T00:00:00Z", type: "customer.identified", data: { ids: [`shared:${run}`] } });
    await applyEvents(deps, accepted(Array.from({ length: MAX_IDS_PER_CUSTOMER - 1 }, (_, i) => identify(i))));
    const purchase = LifecycleEvent.parse({ specversion: "1.0", id: `${run}-p`, source: "t", subject: `${run}-other`, time: "2026-05-01T00:00:00Z", type: "purchase.completed", data: { orderId: "x", amount: "1", currency: "USD" } });
    const { outcome, rejected } = await applyIsolatingPoison((batch) => applyEvents(deps, batch), accepted([identify(MAX_IDS_PER_CUSTOMER - 1), purchase]));
    expect(outcome.applied).toBe(1);
    expect(rejected.map((r) => [r.event.event.id, r.reason.sqlState])).toEqual([[`${run}-i${MAX_IDS_PER_CUSTOMER - 1}`, "54000"]]);
    expect(rejected[0]?.reason.message).toMatch(/would hold 101 ids, more than 100/);
  });
});
