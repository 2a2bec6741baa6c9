import { randomUUID } from "node:crypto";
import { createOutboxRepo, type Pool } from "@lifecycle/db";
import { EngineSettings } from "@lifecycle/domain";
import { LifecycleEvent } from "@lifecycle/events";
import { describe, expect, test } from "@lifecycle/testkit";
import { applyEvents, createApplyDeps } from "@lifecycle/pipeline";
import { createAnnualChurnCache, createClock, createModelCache, createModelsRepo, sweepDueCustomers, type AnnualChurnCache } from "@lifecycle/engine";

// The simple CLV's lifespan from the base's measured annual churn (issue 13): four customers buy
// on 2024-05-01; three never come back and churn by inactivity (180 days: 2024-10-28), one buys
// again in May 2025. Over the year before 2025-06-02 the churn is 3 lost ÷ 4 active = 0.75, on 397
// days of history, so the lifespan is 1 ÷ 0.75 = 1.333… years.

const settings = EngineSettings.parse({ clv: { lifespanYears: 3 } });
const START = new Date("2024-05-01T12:00:00Z");
const NOW2 = new Date("2025-06-01T00:00:00Z");
const NOW3 = new Date("2025-06-02T00:00:00Z");

const ev = (subject: string, type: string, time: string, data: object) =>
  LifecycleEvent.parse({ specversion: "1.0", id: `ch-${randomUUID()}`, source: "test", subject, type, time, data });
const bought = (who: string, time: string, amount: string) => ev(who, "purchase.completed", time, { orderId: `o-${randomUUID()}`, amount, currency: "USD" });

let offset = 0;
async function apply(pool: Pool, at: Date, events: LifecycleEvent[]) {
  const deps = createApplyDeps({ pool, rates: { USD: "1" }, clock: createClock({ mode: "wall", wallNow: () => at }), settings, modelCacheMs: 0 });
  await applyEvents(deps, events.map((event) => ({ event, topic: "t", partition: 0, offset: offset++ })));
}
const sweep = (pool: Pool, at: Date, churn?: AnnualChurnCache) =>
  sweepDueCustomers({ pool, outbox: createOutboxRepo(pool), clock: createClock({ mode: "wall", wallNow: () => at }), models: createModelCache({ repo: createModelsRepo(pool), ttlMs: 0 }), churn, settings });

describe("annual churn and the simple CLV's lifespan", () => {
  test("1 ÷ the measured annual churn once a year of history shows churn; the setting before", async ({ database }) => {
    const { pool } = database;
    // Annual churn cached per process for an hour: the worker's, whose sweep stores the
    // measurements, and another process's (an ingest replica's), on a clock of its own.
    const worker = createAnnualChurnCache({ ttlMs: 3_600_000 });
    let otherNow = 0;
    const other = createAnnualChurnCache({ ttlMs: 3_600_000, now: () => otherNow });
    await apply(pool, START, ["a", "b", "c", "d"].map((who) => bought(who, "2024-05-01T10:00:00Z", "100.00")));
    await apply(pool, NOW2, [bought("a", "2025-05-20T10:00:00Z", "50.00")]);
    // Measured before b, c and d's churn is recorded (the sweep evaluates them next): nothing lost yet.
    expect(await sweep(pool, NOW2, worker)).toMatchObject({ ran: true, evaluated: 3, transitions: 3 });
    const first = await pool.query("SELECT active_at_start, lost, annual_rate FROM annual_churn ORDER BY id");
    expect(first.rows).toEqual([{ active_at_start: 4, lost: 0, annual_rate: 0 }]);
    expect(await worker.get(pool)).toMatchObject({ annualRate: 0 });
    expect(await other.get(pool)).toMatchObject({ annualRate: 0 });
    const a1 = await pool.query("SELECT clv_lifespan_years, clv_lifespan_source FROM customers WHERE customer_id = 'a'");
    expect(a1.rows).toEqual([{ clv_lifespan_years: 3, clv_lifespan_source: "setting" }]);

    // A day of clock time later the sweep measures again: 3 of the 4 active on 2024-06-02 were lost.
    await sweep(pool, NOW3, worker);
    const second = await pool.query("SELECT active_at_start, lost, annual_rate, round(history_days::numeric, 2)::text AS days FROM annual_churn ORDER BY id DESC LIMIT 1");
    // 2024-05-01 10:00 (the first stage change) to 2025-06-02 00:00: 396 days and 14 hours.
    expect(second.rows).toEqual([{ active_at_start: 4, lost: 3, annual_rate: 0.75, days: "396.58" }]);
    // The sweep that stored it invalidated its process's cache; the other process re-reads it
    // once its cache is an hour old.
    expect(await worker.get(pool)).toMatchObject({ annualRate: 0.75 });
    expect(await other.get(pool)).toMatchObject({ annualRate: 0 });
    otherNow += 3_600_000;
    expect(await other.get(pool)).toMatchObject({ annualRate: 0.75 });
    // Not again within the day.
    await sweep(pool, new Date(NOW3.getTime() + 3_600_000));
    expect((await pool.query("SELECT count(*)::int AS n FROM annual_churn")).rows).toEqual([{ n: 2 }]);

    // a's next evaluation uses it. AOV $75; 2 purchases over 396.58 days (1.08578 years, at least 1)
    // = 1.84199 a year; × 1.333… years = $184.20 (with the setting's 3 years it was $414.45).
    await apply(pool, NOW3, [ev("a", "survey.responded", "2025-06-01T12:00:00Z", { kind: "nps", score: 9 })]);
    const a2 = await pool.query("SELECT clv_lifespan_years, clv_lifespan_source, simple_clv::text AS simple FROM customers WHERE customer_id = 'a'");
    expect(a2.rows).toEqual([{ clv_lifespan_years: 1 / 0.75, clv_lifespan_source: "churn", simple: "184.2000" }]);
  });
});
