import { afterAll } from "vitest";
import { z } from "zod";
import type { Pool } from "@lifecycle/db";
import { EngineSettings } from "@lifecycle/domain";
import { StageChanged } from "@lifecycle/events";
import { describe, expect, test, uniqueName } from "@lifecycle/testkit";
import { createApiHarness, createTestIngest, ev, purchase, type ApiHarness, type TestIngest } from "../test-support/api-harness.js";

// Issue 13's done-when: with a margin of 0.3, the historical CLV is one number whether read from
// GET /v1/customers/:id, the lifecycle.stage.changed event (the outbox row the relay publishes),
// the customers table, or the measures' average. The amounts are chosen so that the margin lands
// on a half cent: 10.05 × 0.3 = 3.015, which a float rounds down and cents round up.

const NOW = new Date("2025-06-01T00:00:00Z");
const MARGIN = 0.3;

let h: ApiHarness;
let pool: Pool;
let apply: TestIngest;

const CustomerClv = z.object({ clv: z.object({ historical: z.string(), lifespanYears: z.number().nullable(), lifespanSource: z.string().nullable() }) });

async function fromApi(id: string) {
  const res = await h.app.inject({ method: "GET", url: `/v1/customers/${encodeURIComponent(id)}`, headers: h.auth(h.keys.read) });
  expect(res.statusCode).toBe(200);
  return CustomerClv.parse(res.json()).clv;
}

/** The stage-changed messages written for the customer, oldest first, as the relay publishes them. */
async function fromEvents(id: string) {
  const { rows } = await pool.query("SELECT payload FROM outbox WHERE kind = 'stage-changed' AND payload->>'subject' = $1 ORDER BY id", [id]);
  return rows.map((r: { payload: unknown }) => StageChanged.parse(r.payload).data);
}

async function fromSql(id: string) {
  const { rows } = await pool.query<{ historical_clv: string }>("SELECT historical_clv::text AS historical_clv FROM customers WHERE customer_id = $1", [id]);
  return rows[0]?.historical_clv;
}

describe("one historical CLV, margin applied", () => {
  test.beforeAll(async ({ infra, database }) => {
    pool = database.pool;
    h = await createApiHarness({ infra, pool });
    apply = createTestIngest({ pool, now: NOW, settings: EngineSettings.parse({ clv: { margin: MARGIN } }) });
  });
  afterAll(async () => {
    await h?.close();
  });

  test("a margin of 0.3 gives the same value in the API, the stage-changed event, SQL and the measures", async () => {
    const channel = uniqueName("margin-channel");
    const id = uniqueName("margin");
    await apply(ev(id, "customer.registered", "2025-05-01T10:00:00Z", { acquisitionChannel: channel }));
    // First purchase: prospect → new. 10.05 × 0.3 = 3.015 → 3.02.
    await apply(purchase(id, "2025-05-02T10:00:00Z", "10.05"));
    const afterFirst = await fromApi(id);
    expect(Number(afterFirst.historical)).toBe(3.02);
    expect(await fromSql(id)).toSatisfy((v: string) => Number(v) === 3.02);
    expect((await fromEvents(id)).at(-1)).toMatchObject({ to: "new", clv: { historical: "3.02" } });

    // Second purchase and a partial refund: new → repeat. (10.05 + 25.00 − 1.00) × 0.3 = 10.215 → 10.22.
    await apply(purchase(id, "2025-05-20T10:00:00Z", "25.00"), ev(id, "purchase.refunded", "2025-05-20T11:00:00Z", { orderId: "o-x", amount: "1.00", currency: "USD" }));
    const api = await fromApi(id);
    const sql = await fromSql(id);
    const event = (await fromEvents(id)).at(-1);
    expect(event).toMatchObject({ to: "repeat" });
    expect(event?.clv.historical).toBe("10.22");
    expect(Number(api.historical)).toBe(10.22);
    expect(Number(sql)).toBe(10.22);
    // Not the unmargined 34.05 that the generated column used to serve.
    expect(Number(api.historical)).not.toBe(34.05);

    // The measures' average over the channel (one customer) is the same figure.
    const metrics = await h.app.inject({
      method: "GET",
      url: `/v1/metrics?groupBy=channel&from=2025-05-01T00:00:00Z&to=${NOW.toISOString()}`,
      headers: h.auth(h.keys.read),
    });
    expect(metrics.statusCode).toBe(200);
    const groups = z.object({ groups: z.array(z.object({ key: z.string().nullable(), measures: z.object({ clv: z.object({ averageHistorical: z.string().nullable() }) }) })) }).parse(metrics.json()).groups;
    expect(groups.find((g) => g.key === channel)?.measures.clv.averageHistorical).toBe("10.22");

    // No churn measured in this base: the simple CLV used the configured lifespan, and says so.
    expect(api).toMatchObject({ lifespanYears: 3, lifespanSource: "setting" });
  });
});
