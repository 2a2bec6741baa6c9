import { readFileSync } from "node:fs";
import pg from "pg";
import { z } from "zod";
import type { Pool } from "@lifecycle/db";
import { EngineSettings } from "@lifecycle/domain";
import { createClock, createModelCache, createModelsRepo, refitModels, sweepDueCustomers, SWEEP_LOCK_KEY, type Clock } from "@lifecycle/engine";
import { createOutboxRepo } from "@lifecycle/db";
import { cdnowRowsToEvents, LifecycleEvent, parseCdnowLine, StageChanged } from "@lifecycle/events";
import { createTestLogger, describe, expect, test, uniqueName, waitFor, withTestDatabase } from "@lifecycle/testkit";
import { createRedisConnection } from "@lifecycle/queue";
import { applyEvents, createApplyDeps } from "@lifecycle/pipeline";
import { createMaintenanceService } from "@lifecycle/worker/maintenance";

// The lifecycle engine on real Postgres: time-driven transitions by the sweep, one sweep at a
// time, the CLV refit reproducing the published CDNOW parameters through our own SQL summary,
// and stages independent of the order events arrive in.

const settings = EngineSettings.parse({});
const SAMPLE = new URL("../../shared/data/cdnow/CDNOW_sample.txt", import.meta.url);
const sampleEvents = () =>
  cdnowRowsToEvents(readFileSync(SAMPLE, "utf8").split("\n").flatMap((l) => parseCdnowLine(l) ?? [])).map((e) => LifecycleEvent.parse(e));

async function apply(pool: Pool, clock: Clock, events: readonly LifecycleEvent[], batch: number) {
  const deps = createApplyDeps({ pool, rates: { USD: "1" }, clock, modelCacheMs: 0 });
  for (let i = 0; i < events.length; i += batch) {
    await applyEvents(deps, events.slice(i, i + batch).map((event, j) => ({ event, topic: "t", partition: 0, offset: i + j })));
  }
}
const engineDeps = (pool: Pool, clock: Clock) => {
  const repo = createModelsRepo(pool);
  return { pool, outbox: createOutboxRepo(pool), clock, repo, cache: createModelCache({ repo, ttlMs: 0 }), models: createModelCache({ repo, ttlMs: 0 }), settings };
};
const purchase = (subject: string, id: string, day: string): LifecycleEvent => ({
  specversion: "1.0", id, source: "t", subject, time: `${day}T12:00:00Z`, type: "purchase.completed", data: { orderId: id, amount: "10.00", currency: "USD" },
});


describe("lifecycle engine", () => {
  test("the sweep makes time-driven transitions when nothing arrives, each stored with its outbox message", async ({ infra }) => {
    await withTestDatabase(infra.postgres.adminUrl, async ({ pool }) => {
      const clock = createClock({ mode: "watermark" });
      await apply(pool, clock, [purchase("a", "a1", "2025-01-01"), purchase("b", "b1", "2025-01-01"), purchase("b", "b2", "2025-03-01")], 10);
      // Another customer's event moves the watermark to 2025-07-15: a and b are not touched.
      await apply(pool, clock, [purchase("c", "c1", "2025-07-15")], 10);
      const before = await pool.query("SELECT customer_id, stage FROM customers ORDER BY customer_id");
      expect(before.rows).toEqual([{ customer_id: "a", stage: "new" }, { customer_id: "b", stage: "repeat" }, { customer_id: "c", stage: "new" }]);

      const swept = await sweepDueCustomers(engineDeps(pool, clock));
      expect(swept).toMatchObject({ ran: true, evaluated: 2, transitions: 2, now: new Date("2025-07-15T12:00:00Z") });
      const after = await pool.query("SELECT customer_id, stage, stage_reason, stage_since, stage_review_at FROM customers WHERE customer_id IN ('a', 'b') ORDER BY customer_id");
      expect(after.rows).toEqual([
        // 180 days after 2025-01-01 12:00: churned, nothing left to review
        { customer_id: "a", stage: "churned", stage_reason: "inactive-180d", stage_since: new Date("2025-06-30T12:00:00Z"), stage_review_at: null },
        // 90 days after 2025-03-01: at risk, reviewed again when the churn window runs out
        { customer_id: "b", stage: "at-risk", stage_reason: "inactive-90d", stage_since: new Date("2025-05-30T12:00:00Z"), stage_review_at: new Date("2025-08-28T12:00:00Z") },
      ]);
      const history = await pool.query("SELECT customer_id, from_stage, to_stage, reason FROM stage_transitions WHERE customer_id = 'a' ORDER BY id");
      expect(history.rows).toEqual([
        { customer_id: "a", from_stage: null, to_stage: "new", reason: "first-purchase" },
        { customer_id: "a", from_stage: "new", to_stage: "churned", reason: "inactive-180d" },
      ]);
      const outbox = await pool.query<{ payload: unknown }>("SELECT payload FROM outbox WHERE kind = 'stage-changed' AND payload->>'subject' = 'a' ORDER BY id");
      const published = outbox.rows.map((r) => StageChanged.parse(r.payload));
      expect(published.map((e) => [e.data.from, e.data.to, e.data.at])).toEqual([[null, "new", "2025-01-01T12:00:00.000Z"], ["new", "churned", "2025-06-30T12:00:00.000Z"]]);
      expect(published[1]?.data.clv).toEqual({ historical: "10.00", predicted: null, pAlive: null, expectedPurchases: null });

      // Nothing else is due: a second sweep changes nothing.
      expect(await sweepDueCustomers(engineDeps(pool, clock))).toMatchObject({ ran: true, evaluated: 0, transitions: 0 });
      // A purchase brings the churned customer back, as a reactivation.
      await apply(pool, clock, [purchase("a", "a2", "2025-07-20")], 10);
      const back = await pool.query("SELECT from_stage, to_stage, reason FROM stage_transitions WHERE customer_id = 'a' ORDER BY id DESC LIMIT 1");
      expect(back.rows).toEqual([{ from_stage: "churned", to_stage: "repeat", reason: "reactivated" }]);
    });
  });

  test("only one sweep runs at a time: another holder of the lock makes it step aside", async ({ infra }) => {
    await withTestDatabase(infra.postgres.adminUrl, async ({ pool, url }) => {
      const clock = createClock({ mode: "wall", wallNow: () => new Date("2025-12-01T00:00:00Z") });
      const other = new pg.Client({ connectionString: url });
      await other.connect();
      try {
        await other.query("SELECT pg_advisory_lock($1)", [SWEEP_LOCK_KEY]);
        expect(await sweepDueCustomers(engineDeps(pool, clock))).toEqual({ ran: false, why: "another sweep is running" });
        await other.query("SELECT pg_advisory_unlock($1)", [SWEEP_LOCK_KEY]);
        expect(await sweepDueCustomers(engineDeps(pool, clock))).toMatchObject({ ran: true });
      } finally {
        await other.end();
      }
    });
  });

  test("the refit on the CDNOW sample, summarised by our SQL, reproduces the published BG/NBD and Gamma-Gamma fits", async ({ infra }) => {
    await withTestDatabase(infra.postgres.adminUrl, async ({ pool }) => {
      // The 39-week calibration period: purchases to 1997-09-30, the clock at its end.
      const clock = createClock({ mode: "wall", wallNow: () => new Date("1997-09-30T00:00:00Z") });
      const calibration = sampleEvents().filter((e) => e.time < "1997-10-01");
      await apply(pool, clock, calibration, 1000);
      const result = await refitModels(engineDeps(pool, clock));
      if (!result.fitted) throw new Error(`not fitted: ${result.why}`);
      const close = (value: number, published: number) => expect(Math.abs(value / published - 1)).toBeLessThan(0.01);
      expect(result.sampleSize).toBe(2357);
      const bgNbd = result.countFits.find((f) => f.kind === "bgnbd")?.fit;
      if (bgNbd?.model.spec.kind !== "bgnbd") throw new Error("BG/NBD was not fitted");
      const { params } = bgNbd.model.spec;
      close(params.r, 0.243);
      close(params.alpha, 4.414);
      close(params.a, 0.793);
      close(params.b, 2.426);
      expect(bgNbd.logLikelihood).toBeCloseTo(-9582.43, 1);
      // Pareto/NBD beside it (CLV_MODEL=auto): the published estimates too (notes/clv-models.md 2(b)).
      const paretoNbd = result.countFits.find((f) => f.kind === "paretonbd")?.fit;
      if (paretoNbd?.model.spec.kind !== "paretonbd") throw new Error("Pareto/NBD was not fitted");
      close(paretoNbd.model.spec.params.r, 0.553);
      close(paretoNbd.model.spec.params.alpha, 10.578);
      close(paretoNbd.model.spec.params.s, 0.606);
      close(paretoNbd.model.spec.params.beta, 11.669);
      expect(paretoNbd.logLikelihood).toBeCloseTo(-9595.0, 0);
      expect(result.gammaGamma?.sampleSize).toBe(946);
      close(result.gammaGamma?.p ?? 0, 6.25);
      close(result.gammaGamma?.q ?? 0, 3.74);
      close(result.gammaGamma?.gamma ?? 0, 15.44);
      expect(result.reevaluated).toBe(2357);

      // Stored, and applied per customer: sample customer 1516 is master id 15562 (x 26, t_x 30.857, T 31).
      const stored = await pool.query("SELECT kind, sample_size, time_unit_days FROM clv_models ORDER BY kind");
      expect(stored.rows).toEqual([
        { kind: "bgnbd", sample_size: 2357, time_unit_days: 7 },
        { kind: "gamma-gamma", sample_size: 946, time_unit_days: 7 },
        { kind: "paretonbd", sample_size: 2357, time_unit_days: 7 },
      ]);
      // The applied model's P(alive): BG/NBD's 0.9689 (FHL 2005) or Pareto/NBD's 0.997874 (BTYD), whichever the holdout chose.
      const c = await pool.query<{ p_alive: number; purchase_days: number }>("SELECT p_alive, purchase_days FROM customers WHERE customer_id = '15562'");
      expect(c.rows[0]?.purchase_days).toBe(27);
      expect(result.countModel).toBeDefined();
      expect(c.rows[0]?.p_alive).toBeCloseTo(result.countModel === "bgnbd" ? 0.9689 : 0.997874, 3);
    });
  });

  test("events in any order and batching give the same stages, once the sweep has run at the same watermark", async ({ infra }) => {
    const events = sampleEvents();
    const stages = async (order: readonly LifecycleEvent[], batch: number) =>
      withTestDatabase(infra.postgres.adminUrl, async ({ pool }) => {
        const clock = createClock({ mode: "watermark" });
        await apply(pool, clock, order, batch);
        await sweepDueCustomers(engineDeps(pool, clock));
        const r = await pool.query<{ customer_id: string; stage: string }>("SELECT customer_id, stage FROM customers ORDER BY customer_id");
        return r.rows;
      });
    const inFileOrder = await stages(events, 500);
    const reversed = await stages([...events].reverse(), 37);
    expect(inFileOrder).toHaveLength(2357);
    expect(reversed).toEqual(inFileOrder);
    // At the last event (1998-06-30) most of the sample's one-time buyers of early 1997 have churned.
    const count = (s: string) => inFileOrder.filter((r) => r.stage === s).length;
    expect(count("churned")).toBeGreaterThan(count("repeat"));
  });

  test("the worker's schedule runs the first refit, the sweep and retention on BullMQ, on its own", async ({ infra }) => {
    await withTestDatabase(infra.postgres.adminUrl, async ({ pool }) => {
      // The whole CDNOW sample, evaluated at its last day; the schedule must fit and re-evaluate.
      const clock = createClock({ mode: "wall", wallNow: () => new Date("1998-07-01T00:00:00Z") });
      await apply(pool, clock, sampleEvents(), 1000);
      const connection = createRedisConnection(infra.redis.url, "engine-test");
      const maintenance = createMaintenanceService({
        pool, connection, prefix: uniqueName("maint"), logger: createTestLogger("maintenance"), clock, settings,
        modelCacheMs: 0, sweepEveryMs: 1_000, refitEveryMs: 3_600_000, initialRefitDelayMs: 0, initialRetentionDelayMs: 0,
      });
      await maintenance.start();
      try {
        await waitFor("a fitted model and every customer predicted", async () => {
          const r = await pool.query<{ n: number }>("SELECT count(*)::int AS n FROM customers WHERE p_alive IS NOT NULL");
          return r.rows[0]?.n === 2357 ? true : undefined;
        }, { timeoutMs: 30_000 });
        await waitFor("a completed stage sweep", async () => {
          const done = await maintenance.queue.getCompleted();
          return done.find((j) => j.name === "stage-sweep" && z.object({ ran: z.literal(true) }).safeParse(j.returnvalue).success);
        }, { timeoutMs: 10_000 });
        // Retention by the engine's clock: at 1998-07-01, the default 400 days of payloads reach back
        // to 1997-05-27, so May 1997 stays whole and the months before it are dropped; the run is
        // recorded and counted.
        const Retention = z.object({ ran: z.literal(true), payloadMonthsDropped: z.array(z.object({ partition: z.string(), events: z.number() })) });
        const retention = await waitFor("a completed retention run", async () => {
          const done = await maintenance.queue.getCompleted();
          // The scheduler's first run and the one after start: the first to get the lock drops the months.
          return done.filter((j) => j.name === "retention").map((j) => Retention.safeParse(j.returnvalue).data).find((r) => r?.payloadMonthsDropped.length);
        }, { timeoutMs: 10_000 });
        expect(retention.payloadMonthsDropped.map((m) => m.partition)).toEqual(["inbox_events_m1997_01", "inbox_events_m1997_02", "inbox_events_m1997_03", "inbox_events_m1997_04"]);
        const oldest = await pool.query<{ t: Date }>("SELECT min(event_time) AS t FROM inbox_events");
        expect(oldest.rows[0]?.t.toISOString()).toMatch(/^1997-05/);
        const runs = await pool.query<{ partitions: number }>("SELECT jsonb_array_length(removed->'payloadMonthsDropped')::int AS partitions FROM retention_runs ORDER BY id");
        expect(runs.rows.map((r) => r.partitions).filter((n) => n > 0)).toEqual([4]);
        const metrics = await maintenance.registry.metrics();
        expect(metrics).toMatch(new RegExp(`lifecycle_retention_removed_total\\{kind="event_payloads"\\} ${retention.payloadMonthsDropped.reduce((n, m) => n + m.events, 0)}\\b`));
        const schedulers = await maintenance.queue.getJobSchedulers();
        expect(schedulers.map((j) => j.key).sort()).toEqual(["clv-refit", "retention", "stage-sweep"]);
      } finally {
        await maintenance.queue.obliterate({ force: true });
        await maintenance.stop();
        connection.disconnect();
      }
    });
  });
});
