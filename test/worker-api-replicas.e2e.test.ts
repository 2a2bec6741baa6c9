import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Queue } from "bullmq";
import { z } from "zod";
import { createApiKeyRepo } from "@lifecycle/db";
import { QUEUES, syntheticEvents, type LifecycleEvent } from "@lifecycle/events";
import { createKafka, ensureTopics } from "@lifecycle/kafka";
import { applyEvents, createApplyDeps } from "@lifecycle/pipeline";
import { createFollowUpQueues, createRedisConnection } from "@lifecycle/queue";
import { createTestLogger, describe, expect, startService, test, uniqueName, waitFor, type ServiceProcess } from "@lifecycle/testkit";
import { openEventStream, type EventStream } from "@lifecycle/api/test-support/alerts-sse";
import { runLog } from "./support/run-log.js";

// Issue 10, point 5, the worker and API side: two worker processes share one schedule, so each
// stage sweep and each CLV refit runs once per interval, not once per worker; and a stage change
// the workers make reaches the SSE clients of both API processes (each API reads the whole
// stage-changed topic).
const main = (service: string) => fileURLToPath(new URL(`../services/${service}/src/main.ts`, import.meta.url));
const SWEEP_MS = 2_000;
const REFIT_MS = 4_000;
/** Intervals each schedule must be seen through with both workers up. */
const INTERVALS = 3;
const DAY_MS = 86_400_000;
const logger = createTestLogger("worker-api-replicas");

/** A maintenance run as the worker logs it: one line per run, its job id naming the interval. */
const RunLine = z.object({ time: z.number(), msg: z.enum(["stage sweep", "clv refit"]), jobId: z.string(), sampleSize: z.number().optional() });
type Run = z.infer<typeof RunLine> & { worker: string };

function runsIn(worker: ServiceProcess): Run[] {
  return readFileSync(worker.logFile, "utf8").split("\n").flatMap((line) => {
    const parsed = line.includes('"jobId"') ? RunLine.safeParse(JSON.parse(line)) : undefined;
    return parsed?.success ? [{ ...parsed.data, worker: worker.name }] : [];
  });
}

/** The slot (ms) a scheduler run was for, from its id `repeat:<scheduler>:<slot>`; undefined for other jobs. */
const slotOf = (scheduler: string, jobId: string) => (jobId.startsWith(`repeat:${scheduler}:`) ? Number(jobId.slice(`repeat:${scheduler}:`.length)) : undefined);

describe("two workers and two APIs side by side", { timeout: 180_000 }, () => {
  test("each sweep and refit runs once per interval; an at-risk alert reaches the SSE clients of both APIs", async ({ infra, database }) => {
    const run = uniqueName("wa");
    const stageTopic = `${run}-stages`;
    const queuePrefix = `${run}-q`;
    // Phases with their times, beside the processes' logs: where to look when it fails or slows.
    const { logDir, note } = runLog(run);
    const kafka = createKafka({ brokers: infra.kafka.brokers, clientId: run, logger });
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, [{ topic: stageTopic, numPartitions: 3 }]);
    await admin.disconnect();

    // A year of purchases over 100 customers: enough buyers for the refit to fit (it needs 50), few
    // enough that a refit ends well within its interval on a loaded machine.
    const apply = (() => {
      const deps = createApplyDeps({ pool: database.pool, rates: { USD: "1" } });
      let offset = 0;
      return (events: readonly LifecycleEvent[]) => applyEvents(deps, events.map((event) => ({ event, topic: "seed", partition: 0, offset: offset++ })));
    })();
    const now = Date.now();
    const history = [...syntheticEvents({ seed: 11, customers: 100, count: 1_000, start: new Date(now - 365 * DAY_MS), end: new Date(now - DAY_MS), prefix: `${run}-` })];
    for (let i = 0; i < history.length; i += 1_000) await apply(history.slice(i, i + 1_000));

    const env = {
      ...process.env,
      DATABASE_URL: database.url,
      KAFKA_BROKERS: infra.kafka.brokers.join(","),
      REDIS_URL: infra.redis.url,
      QUEUE_PREFIX: queuePrefix,
      STAGE_CHANGED_TOPIC: stageTopic,
      SWEEP_INTERVAL_MS: String(SWEEP_MS),
      REFIT_INTERVAL_MS: String(REFIT_MS),
      // The idle sweeps are logged at debug: every run must be in the log.
      LOG_LEVEL: "debug",
      PROBE_PORT: "-1",
      API_PORT: "0",
    };
    const start = (name: string, service: string, readyMessage: string) => startService({ name, entry: main(service), env, logDir, readyMessage });
    const processes: ServiceProcess[] = [];
    const streams: EventStream[] = [];
    const redis = createRedisConnection(infra.redis.url, "worker-api-replicas-test");
    try {
      const started = await Promise.allSettled([
        start("worker-1", "worker", "worker running"),
        start("worker-2", "worker", "worker running"),
        start("api-1", "api", "api running"),
        start("api-2", "api", "api running"),
      ]);
      for (const s of started) if (s.status === "fulfilled") processes.push(s.value);
      for (const s of started) if (s.status === "rejected") throw s.reason;
      const [worker1, worker2, api1, api2] = processes;
      if (!worker1 || !worker2 || !api1 || !api2) throw new Error("four processes were started");
      const bothUp = Date.now();
      note("two workers and two APIs running");

      // An SSE client on each API; then a customer whose 90 days without a purchase end in 4 s:
      // no event comes, a sweep (or a refit) of the workers finds it at risk.
      const key = (await createApiKeyRepo(database.pool).create({ name: run, scopes: ["read"] })).key;
      for (const api of [api1, api2]) {
        const apiLine = readFileSync(api.logFile, "utf8").split("\n").find((l) => l.includes('"msg":"api running"')) ?? "";
        const { address } = z.object({ address: z.url() }).parse(JSON.parse(apiLine));
        const stream = await openEventStream(`${address}/v1/alerts/stream`, { authorization: `Bearer ${key}` });
        streams.push(stream);
        expect(stream.response.status).toBe(200);
      }
      const customer = `${run}-lapsing`;
      const purchase = { specversion: "1.0" as const, id: `${run}-p1`, source: "test", type: "purchase.completed" as const, subject: customer, time: new Date(Date.now() - 90 * DAY_MS + 4_000).toISOString(), data: { orderId: "o-1", amount: "25.00", currency: "USD" } };
      await apply([purchase]);
      const alertsFor = (stream: EventStream) => stream.alerts().filter((a) => a.event === "at-risk" && a.data?.includes(`"id":"${customer}"`));
      const alerts = await waitFor("the at-risk alert on both APIs' streams", async () => {
        const each = streams.map(alertsFor);
        return each.every((a) => a.length > 0) ? each : undefined;
      }, { timeoutMs: 30_000 });
      note("the alert reached both SSE clients");
      // The same stage change (one CloudEvents id) on both streams.
      expect(new Set(alerts.flat().map((a) => a.id)).size).toBe(1);
      expect(JSON.parse(alerts[0]?.[0]?.data ?? "null")).toMatchObject({ id: customer, from: "new", reason: "inactive-90d" });

      // Watch both schedules for INTERVALS whole intervals with both workers up, then stop them.
      const until = bothUp + (INTERVALS + 1) * Math.max(SWEEP_MS, REFIT_MS) + 1_000;
      await new Promise((r) => setTimeout(r, Math.max(0, until - Date.now())));
      await Promise.all([worker1.stop(), worker2.stop()]);
      note("workers stopped");

      const runs = [...runsIn(worker1), ...runsIn(worker2)];
      for (const [msg, scheduler, every] of [["stage sweep", "stage-sweep", SWEEP_MS], ["clv refit", "clv-refit", REFIT_MS]] as const) {
        const mine = runs.filter((r) => r.msg === msg);
        note(`${scheduler}: ${mine.length} runs, ${mine.filter((r) => r.worker === worker1.name).length} on ${worker1.name}, ${mine.filter((r) => r.worker === worker2.name).length} on ${worker2.name}`);
        // No job ran twice: the job id names the interval, and each appears in one log, once.
        const ids = mine.map((r) => r.jobId);
        expect(ids.length, `${scheduler} runs, each once: ${ids.join(", ")}`).toBe(new Set(ids).size);
        // One schedule: the runs' intervals are whole intervals apart (a second schedule, started at
        // another moment, would fall between them). BullMQ does not catch up on an interval whose
        // run could only start after it had passed, so a busy moment may skip one.
        const slots = mine.flatMap((r) => slotOf(scheduler, r.jobId) ?? []).filter((s) => s >= bothUp && s <= until - every).sort((a, b) => a - b);
        expect(slots.length, `${scheduler} intervals run`).toBeGreaterThanOrEqual(INTERVALS);
        const apart = slots.slice(1).map((s, i) => s - (slots[i] ?? 0));
        expect(apart.filter((ms) => ms <= 0 || ms % every !== 0), `${scheduler} intervals apart: ${apart.join(", ")}`).toEqual([]);
      }
      // Each refit that fitted stored its models once: Postgres agrees with the logs.
      const fitted = runs.filter((r) => r.msg === "clv refit" && r.sampleSize !== undefined).length;
      const models = await database.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM clv_models WHERE kind = 'bgnbd'");
      expect(fitted).toBeGreaterThanOrEqual(INTERVALS);
      expect(models.rows[0]?.n).toBe(fitted);
    } finally {
      await Promise.all(streams.map((s) => s.close()));
      await Promise.all(processes.map((p) => p.stop()));
      const followUps = createFollowUpQueues({ connection: redis, prefix: queuePrefix });
      await followUps.obliterate();
      await followUps.close();
      const maintenance = new Queue(QUEUES.maintenance, { connection: redis, prefix: queuePrefix });
      await maintenance.obliterate({ force: true });
      await maintenance.close();
      redis.disconnect();
    }
  });
});
