// `npm run bench`: the ingest benchmark of issue 9, every measure in one run on one broker, with
// the system running as users run it (the ingest and worker mains as processes, relays on).
//   (floor) Postgres alone: COPY 2,000 events a transaction into staging, insert once into an
//           inbox-shaped table, upsert per-customer count/sum/max (one session); and a bare COPY
//   (a) raw: a do-nothing kafkajs consumer draining the input
//   (b) ours: the worker and 1 ingest process, to committed Postgres state; then (c) right after
//   (c) latency: produce → committed stage at a fixed offered load, relay and worker running
//   (b₀) ours, 1 replica, with inbox and stage history as plain tables: what partitioning costs
//   (b) ours again with 2 ingest processes in one group (fresh database, topics and group)
//   (d) naive: the ingest service in-process, one transaction per event, on a sample; (b′) ours on it
//   (profile) bench/apply.profile.ts: where the milliseconds of a batch go
// Input: CDNOW master + a seeded synthetic mix over 100,000 customers. With the default options it
// writes docs/benchmarks.{md,json}; with any other, .run/bench/benchmarks.{md,json}.
// Everything it starts or makes (broker, processes, databases, topics, Redis keys) is removed at
// the end, after an error, and on Ctrl-C.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import pg from "pg";
import type { CloudEventEnvelope } from "@lifecycle/events";
import { createKafka } from "@lifecycle/kafka";
import { createLogger } from "@lifecycle/logging";
import { createRedisConnection } from "@lifecycle/queue";
import { createTopicRegistry, startBroker } from "./broker.js";
import { benchDatabase, DEFAULT_INGEST_CONCURRENCY, inputTopicsFor, type BenchContext, type BenchOptions } from "./context.js";
import { createDisruptionSink } from "./disruptions.js";
import { measureFloor, FLOOR_CHUNK } from "./floor.js";
import { fmt, mb } from "./format.js";
import { benchInput, cdnowEvents, produceAll, synthetic } from "./input.js";
import type { IngestReport } from "./ingest-report.js";
import { describeMachine } from "./machine.js";
import { createRedisSampler } from "./redis-sampler.js";
import { writeReport } from "./report.js";
import { inProcessPhase, profilePhase, rawPhase } from "./sample-phases.js";
import { endPhase, latencyPhase, oursPhase } from "./service-phases.js";
import { startSinks } from "./sinks.js";
import { unpartition } from "./unpartitioned.js";
import { createTeardown, exitOnSignals } from "./teardown.js";

const DEFAULTS = {
  synthetic: "1000000",
  customers: "100000",
  partitions: "12",
  "naive-sample": "20000",
  "latency-rate": "2000",
  "latency-seconds": "30",
  "profile-events": "40000",
  "sweep-ms": "5000",
} as const;
const { values: args } = parseArgs({
  options: {
    synthetic: { type: "string", default: DEFAULTS.synthetic },
    customers: { type: "string", default: DEFAULTS.customers },
    /** Partitions of every input topic (the ingest's TOPIC_PARTITIONS default is 12). */
    partitions: { type: "string", default: DEFAULTS.partitions },
    "naive-sample": { type: "string", default: DEFAULTS["naive-sample"] },
    "latency-rate": { type: "string", default: DEFAULTS["latency-rate"] },
    "latency-seconds": { type: "string", default: DEFAULTS["latency-seconds"] },
    "profile-events": { type: "string", default: DEFAULTS["profile-events"] },
    /** The worker's SWEEP_INTERVAL_MS (the demo's 5 s). */
    "sweep-ms": { type: "string", default: DEFAULTS["sweep-ms"] },
    /** INGEST_CONCURRENCY for every ingest; unset: the service's default. */
    concurrency: { type: "string" },
    /** Events for the Postgres floor; unset: the whole input. */
    "floor-events": { type: "string" },
    /** Minutes any phase may take before the bench fails; unset: 10 + 1 per 60,000 events. */
    "timeout-min": { type: "string" },
    /** PLAYBOOKS for the services (JSON), e.g. to route a playbook to the webhook or e-mail sink. */
    playbooks: { type: "string" },
    "skip-profile": { type: "boolean", default: false },
    /** Runs (b₀) before (b) rather than after (c). */
    "unpartitioned-first": { type: "boolean", default: false },
    /** Where the report goes (path without .md/.json); unset: docs/benchmarks for the default run, else .run/bench/benchmarks. */
    out: { type: "string" },
  },
});
const optional = (v: string | undefined) => (v === undefined ? undefined : Number(v));
const opts: BenchOptions = {
  synthetic: Number(args.synthetic),
  customers: Number(args.customers),
  partitions: Number(args.partitions),
  concurrency: optional(args.concurrency),
  naiveSample: Number(args["naive-sample"]),
  latencyRate: Number(args["latency-rate"]),
  latencySeconds: Number(args["latency-seconds"]),
  floorEvents: optional(args["floor-events"]),
  profileEvents: Number(args["profile-events"]),
  timeoutMin: optional(args["timeout-min"]),
  sweepMs: Number(args["sweep-ms"]),
  playbooks: args.playbooks,
};
// The options that differ from the defaults: any of them (but --out) makes a development run.
const defaults = new Map<string, string>(Object.entries(DEFAULTS));
const given = Object.fromEntries(
  Object.entries(args)
    .filter(([k, v]) => v !== undefined && v !== false && defaults.get(k) !== v)
    .map(([k, v]) => [k, String(v)]),
);
const full = Object.keys(given).every((k) => k === "out");

const root = fileURLToPath(new URL("../", import.meta.url));
const run = Date.now().toString(36);
const say = (line: string) => console.log(`[bench] ${line}`);
const teardown = createTeardown();
exitOnSignals(teardown, say);

async function main(): Promise<void> {
  const startedAt = Date.now();
  const machine = describeMachine({});
  say(`run ${run}${full ? "" : ` (development run: ${Object.entries(given).map(([k, v]) => `--${k} ${v}`).join(" ")})`}`);
  say(execFileSync("bash", [`${root}infra/local-infra.sh`, "services"], { encoding: "utf8" }).trim().split("\n").join("; "));
  const ctx = await setUp();
  const master = `${root}../shared/data/cdnow/CDNOW_master.txt`;
  if (!existsSync(master)) throw new Error(`CDNOW data not found at ${master} (shared/ must sit beside the project)`);
  const cdnow = cdnowEvents(master);
  const total = cdnow.length + opts.synthetic;
  const input = () => benchInput(cdnow, { count: opts.synthetic, customers: opts.customers });

  const floor = await floorPhase(ctx, input, Math.min(total, opts.floorEvents ?? total));
  const { topics: topics1, seconds: producedInSeconds } = await produceInput(ctx, "b1", input(), total);
  say(`input: ${fmt(cdnow.length)} CDNOW + ${fmt(opts.synthetic)} synthetic = ${fmt(total)} events produced in ${producedInSeconds.toFixed(1)} s`);
  const raw = await rawPhase(ctx, topics1, total);

  // (b₀) right after (b) and (c), or right before them with --unpartitioned-first: a phase's rate
  // drifts with the host over a run, and the order should not decide the ratio.
  const unpartitioned = async () => {
    const { topics: topics0 } = await produceInput(ctx, "b0", input(), total);
    const b0 = await oursPhase(ctx, { name: "b0", label: "(b₀) 1 replica, unpartitioned", topics: topics0, replicas: 1, expected: total, prepare: unpartition });
    await endPhase(b0.running);
    return b0;
  };
  const b0First = args["unpartitioned-first"] ? await unpartitioned() : undefined;
  const b1 = await oursPhase(ctx, { name: "b1", label: "(b) 1 replica", topics: topics1, replicas: 1, expected: total });
  const latency = await latencyPhase(ctx, b1.running, "(c) latency");
  await endPhase(b1.running);
  const b0 = b0First ?? (await unpartitioned());
  say(`partitioned ÷ unpartitioned, 1 replica: ${(b1.figures.perSecond / b0.figures.perSecond).toFixed(2)}`);

  const { topics: topics2 } = await produceInput(ctx, "b2", input(), total);
  const b2 = await oursPhase(ctx, { name: "b2", label: "(b) 2 replicas", topics: topics2, replicas: 2, expected: total });
  await endPhase(b2.running);
  say(`2 replicas ÷ 1 replica: ${(b2.figures.perSecond / b1.figures.perSecond).toFixed(2)}`);

  const { topics: sample } = await produceInput(ctx, "sample", synthetic({ count: opts.naiveSample, customers: opts.customers, prefix: "nv-", seed: 3 }), opts.naiveSample);
  const naive = await inProcessPhase(ctx, { name: "naive", label: "(d) naive", topics: sample, mode: "per-event", expected: opts.naiveSample });
  const oursOnNaiveSample = await inProcessPhase(ctx, { name: "sample", label: "(b′) ours on the sample", topics: sample, mode: "batch", expected: opts.naiveSample });

  const profile = args["skip-profile"] ? undefined : await profilePhase(ctx);

  const report: IngestReport = {
    version: 2,
    machine: { ...machine, kafka: "Apache Kafka 3.9.1 (Maven), single node, heap 1 GiB, C2 JIT", ...(await serverVersions(ctx)) },
    run: { full, options: given, clock: "watermark", concurrency: opts.concurrency === undefined ? `${DEFAULT_INGEST_CONCURRENCY} (the service's default)` : String(opts.concurrency), totalSeconds: (Date.now() - startedAt) / 1000 },
    input: { cdnow: cdnow.length, synthetic: opts.synthetic, customers: opts.customers, total, topics: 4, partitionsPerTopic: opts.partitions, producedInSeconds },
    floor: { events: floor.events, seconds: floor.seconds, perSecond: floor.perSecond, chunk: FLOOR_CHUNK, synchronousCommit: floor.synchronousCommit, bareCopy: { events: floor.bareCopy.rows, seconds: floor.bareCopy.seconds, perSecond: floor.bareCopy.perSecond } },
    raw,
    ours1: b1.figures,
    ours1Unpartitioned: b0.figures,
    ours2: b2.figures,
    latency,
    naive,
    oursOnNaiveSample,
    redis: { baselineBytes: ctx.redisBaseline, peakBytes: ctx.sampler.peakRedisBytes() },
    ...(profile ? { profile } : {}),
  };
  // Only the default run publishes: a development run's figures go beside the logs.
  const out = args.out ?? (full ? `${root}docs/benchmarks` : `${root}.run/bench/benchmarks`);
  mkdirSync(dirname(out), { recursive: true });
  writeReport(out, { ingest: report });
  say(`peak Redis ${mb(report.redis.peakBytes)} (baseline ${mb(report.redis.baselineBytes)}); wrote ${out}.md and ${out}.json`);
}

async function floorPhase(ctx: BenchContext, input: () => Iterable<CloudEventEnvelope>, limit: number) {
  const db = await benchDatabase(ctx, "floor", { migrated: false });
  await ctx.sampler.setPhase("(floor)");
  const floor = await measureFloor({ url: db.url, events: input, limit, say });
  await db.drop();
  say(`(floor) ${fmt(floor.events)} events in ${floor.seconds.toFixed(1)} s = ${fmt(floor.perSecond)}/s; bare COPY ${fmt(floor.bareCopy.perSecond)} rows/s`);
  return floor;
}

/** Fresh input topics for phase `name`, with `events` produced into them. */
async function produceInput(ctx: BenchContext, name: string, events: Iterable<CloudEventEnvelope>, count: number) {
  const topics = inputTopicsFor(ctx, name);
  await ctx.topics.create(Object.values(topics), opts.partitions);
  const t0 = Date.now();
  await produceAll(ctx.kafka, topics, events, count, say);
  return { topics, seconds: (Date.now() - t0) / 1000 };
}

async function serverVersions(ctx: BenchContext): Promise<{ postgres: string; redis: string }> {
  const redis = createRedisConnection(ctx.redisUrl, "bench");
  const redisVersion = /^redis_version:(\S+)/m.exec(await redis.info("server"))?.[1] ?? "?";
  redis.disconnect();
  const postgres = (await onServer<{ v: string }>(ctx.pgServer, "SELECT current_setting('server_version') AS v"))[0]?.v ?? "?";
  return { postgres, redis: redisVersion };
}

/** One query on the server's maintenance database. */
async function onServer<T extends pg.QueryResultRow>(pgServer: string, sql: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: `${pgServer}/postgres`, application_name: "bench" });
  await client.connect();
  try {
    return (await client.query<T>(sql, values)).rows;
  } finally {
    await client.end();
  }
}

/** Broker, Kafka client, samplers, sinks and the final check, each registered for the clean-up. */
async function setUp(): Promise<BenchContext & { redisBaseline: number }> {
  const redisUrl = "redis://127.0.0.1:6379";
  const pgServer = "postgres://postgres@127.0.0.1:5432";
  teardown.add("check that nothing is left", () => checkNothingLeft(redisUrl, pgServer));
  teardown.add("delete the run's Redis keys", () => deleteRedisKeys(redisUrl, `bench-${run}-*`));
  const port = "29092";
  await startBroker({ root, port, say, teardown });
  const sink = createDisruptionSink();
  const logger = createLogger({ name: "bench", level: "warn", pretty: false, destination: sink.stream });
  const kafka = createKafka({ brokers: [`127.0.0.1:${port}`], clientId: `bench-${run}`, logger });
  const topics = createTopicRegistry(kafka, teardown);
  const admin = kafka.admin();
  await admin.connect();
  teardown.add("disconnect the bench's Kafka admin", () => admin.disconnect());
  const sampler = createRedisSampler(redisUrl);
  teardown.add("stop the Redis sampler", () => sampler.stop());
  const redisBaseline = await sampler.baseline();
  const sinks = await startSinks();
  teardown.add("close the webhook and SMTP sinks", () => sinks.close());
  const logDir = `${root}.run/bench/${run}`;
  return { run, root, port, pgServer, redisUrl, logDir, opts, kafka, admin, topics, teardown, sampler, sinks, inProcessLog: sink.events, say, redisBaseline };
}

/** Every key matching `pattern` (SCAN, never KEYS), handed to `each` a page at a time. */
async function scanKeys(url: string, pattern: string, each: (keys: string[], redis: ReturnType<typeof createRedisConnection>) => Promise<void>): Promise<void> {
  const redis = createRedisConnection(url, "bench-cleanup");
  try {
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 1000);
      cursor = next;
      if (keys.length) await each(keys, redis);
    } while (cursor !== "0");
  } finally {
    redis.disconnect();
  }
}

async function deleteRedisKeys(url: string, pattern: string): Promise<void> {
  let deleted = 0;
  await scanKeys(url, pattern, async (keys, redis) => {
    deleted += await redis.unlink(...keys);
  });
  if (deleted) say(`deleted ${fmt(deleted)} Redis keys under ${pattern}`);
}

/** The last step: says what of this run is still there (nothing, normally). */
async function checkNothingLeft(redisUrl: string, pgServer: string): Promise<void> {
  const dbs = (await onServer<{ datname: string }>(pgServer, "SELECT datname FROM pg_database WHERE datname LIKE $1", [`lifecycle_bench_${run}_%`])).map((r) => r.datname);
  let keys = 0;
  await scanKeys(redisUrl, `bench-${run}-*`, async (k) => {
    keys += k.length;
  });
  say(dbs.length || keys ? `left behind: databases ${dbs.join(", ") || "none"}; ${keys} Redis keys under bench-${run}-*` : `nothing of run ${run} is left in Postgres or Redis`);
}

let failed = false;
try {
  await main();
} catch (err) {
  if (!teardown.stopping) {
    failed = true;
    console.error("[bench] FAILED:", err instanceof Error ? (err.stack ?? err.message) : err);
  }
} finally {
  // After a signal the handler cleans up and exits; otherwise clean up here.
  if (!teardown.stopping) {
    await teardown.runAll();
    process.exit(failed ? 1 : 0);
  }
}
