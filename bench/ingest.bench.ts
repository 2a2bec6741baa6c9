// `npm run bench`: the ingest benchmark of issue 3, all measures in one run on one broker.
//   (a) raw: a do-nothing kafkajs consumer draining the input
//   (b) ours: the lifecycle consumer, end to end to committed Postgres state
//   (c) latency: produce → committed state at a fixed offered load (p50/p99)
//   (d) naive: the same consumer with one transaction per event (the baseline)
// Input: CDNOW master + a seeded synthetic mix over 100,000 customers. Writes docs/benchmarks.{md,json}.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Partitioners, type Kafka } from "kafkajs";
import { createDatabase, createPool, dropDatabase, migrate, type Pool } from "@lifecycle/db";
import { syntheticEvents, type InputTopics } from "@lifecycle/events";
import { createEventPublisher, createKafka, ensureTopics } from "@lifecycle/kafka";
import { createLogger } from "@lifecycle/logging";
import { createFollowUpQueues, createRedisConnection } from "@lifecycle/queue";
import { consumerLag, waitFor } from "@lifecycle/testkit/tools";
import { replayFile } from "../scripts/lib/replay.js";
import { createIngestService } from "@lifecycle/ingest";
import { describeMachine } from "./machine.js";
import { produceAtRate } from "./offered-load.js";
import { writeReport, type IngestReport } from "./report.js";

const { values: opts } = parseArgs({
  options: {
    synthetic: { type: "string", default: "1000000" },
    customers: { type: "string", default: "100000" },
    "naive-sample": { type: "string", default: "20000" },
    "latency-rate": { type: "string", default: "2000" },
    "latency-seconds": { type: "string", default: "30" },
    concurrency: { type: "string", default: "2" },
  },
});
const SYNTHETIC = Number(opts.synthetic);
const CUSTOMERS = Number(opts.customers);
const NAIVE_SAMPLE = Number(opts["naive-sample"]);
const LATENCY_RATE = Number(opts["latency-rate"]);
const LATENCY_SECONDS = Number(opts["latency-seconds"]);
const CONCURRENCY = Number(opts.concurrency);

const root = fileURLToPath(new URL("../", import.meta.url));
const MASTER = `${root}../shared/data/cdnow/CDNOW_master.txt`;
const PORT = "29092";
const say = (m: string) => console.log(`[bench] ${m}`);
const logger = createLogger({ name: "bench", level: "warn", pretty: false });
const run = Date.now().toString(36);
const cleanup: (() => Promise<unknown>)[] = [];
const kafkaEnv = { ...process.env, KAFKA_PORT: PORT, KAFKA_HEAP_OPTS: "-Xms512m -Xmx1g", KAFKA_JVM_EXTRA_OPTS: "-XX:TieredStopAtLevel=4" };

const topicsFor = (name: string): InputTopics => ({
  customer: `bench-${run}-${name}-customer`,
  purchase: `bench-${run}-${name}-purchase`,
  supportTicket: `bench-${run}-${name}-ticket`,
  survey: `bench-${run}-${name}-survey`,
});
const synthetic = (count: number, prefix: string, seed = 1) =>
  syntheticEvents({ seed, customers: CUSTOMERS, count, start: new Date("1997-01-01T00:00:00Z"), end: new Date("1998-07-01T00:00:00Z"), prefix });

async function createTopics(kafka: Kafka, topics: InputTopics) {
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [...Object.values(topics), `${topics.customer}-dlq`].map((topic) => ({ topic })), 3);
  await admin.disconnect();
}

async function produceAll(kafka: Kafka, topics: InputTopics, events: Iterable<{ type: string; subject: string }>) {
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
  await producer.connect();
  const publish = createEventPublisher({ producer, topics });
  let pending: { type: string; subject: string }[] = [];
  for (const e of events) {
    pending.push(e);
    if (pending.length === 5_000) {
      await publish(pending);
      pending = [];
    }
  }
  if (pending.length) await publish(pending);
  await producer.disconnect();
}

async function caughtUp(kafka: Kafka, groupId: string, topics: InputTopics) {
  for (const t of Object.values(topics)) {
    await waitFor(`${groupId} to drain ${t}`, async () => ((await consumerLag(kafka, groupId, t)) === 0 ? true : undefined), { timeoutMs: 1_800_000, intervalMs: 100 });
  }
}

async function rawDrain(kafka: Kafka, topics: InputTopics, total: number): Promise<number> {
  const consumer = kafka.consumer({ groupId: `bench-${run}-raw`, maxWaitTimeInMs: 100 });
  let seen = 0;
  const t0 = Date.now();
  await consumer.connect();
  await consumer.subscribe({ topics: Object.values(topics), fromBeginning: true });
  const done = new Promise<void>((resolve) => {
    void consumer.run({
      partitionsConsumedConcurrently: CONCURRENCY,
      eachBatch: async ({ batch }) => {
        seen += batch.messages.length;
        if (seen >= total) resolve();
      },
    });
  });
  await done;
  const seconds = (Date.now() - t0) / 1000;
  await consumer.disconnect();
  return seconds;
}

async function benchDatabase(name: string): Promise<{ url: string; pool: Pool }> {
  const url = `postgres://postgres@127.0.0.1:5432/lifecycle_bench_${run}_${name}`;
  await createDatabase(url);
  await migrate({ databaseUrl: url });
  const pool = createPool({ connectionString: url, max: 10 });
  cleanup.push(async () => {
    await pool.end();
    await dropDatabase(url);
  });
  return { url, pool };
}

/** Runs the ingest service over `topics` until it has committed everything; returns seconds and latencies. */
async function ours({ kafka, pool, topics, mode, name, during }: { kafka: Kafka; pool: Pool; topics: InputTopics; mode: "batch" | "per-event"; name: string; during?: () => Promise<void> }) {
  const redis = createRedisConnection("redis://127.0.0.1:6379", "bench");
  const prefix = `bench-${run}-${name}`;
  const followUps = createFollowUpQueues({ connection: redis, prefix });
  const latencies: number[] = [];
  const groupId = `bench-${run}-${name}`;
  const service = await createIngestService({
    kafka, pool, followUps, logger, groupId, inputTopics: Object.values(topics), dlqTopic: `${topics.customer}-dlq`, topicPartitions: 3, rates: { USD: "1" },
    applyMode: mode, concurrency: CONCURRENCY,
    onCommitted: (events, at) => {
      for (const e of events) if (e.event.id.startsWith("lat-") && e.producedAt) latencies.push(at - e.producedAt);
    },
  });
  const t0 = Date.now();
  await service.start();
  await caughtUp(kafka, groupId, topics);
  const seconds = (Date.now() - t0) / 1000;
  await during?.();
  await service.stop();
  await followUps.obliterate();
  await followUps.close();
  redis.disconnect();
  return { seconds, latencies };
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;

try {
  say(execFileSync("bash", [`${root}infra/local-infra.sh`, "services"], { encoding: "utf8" }).trim().split("\n").join("; "));
  say(execFileSync("bash", [`${root}infra/kafka/kafka.sh`, "start"], { env: kafkaEnv, encoding: "utf8" }).trim());
  cleanup.push(async () => say(execFileSync("bash", [`${root}infra/kafka/kafka.sh`, "stop"], { env: kafkaEnv, encoding: "utf8" }).trim()));
  const kafka = createKafka({ brokers: [`127.0.0.1:${PORT}`], clientId: "bench", logger });

  // Input: CDNOW master + the synthetic mix, produced before anything consumes.
  const main = topicsFor("main");
  await createTopics(kafka, main);
  const t = Date.now();
  const cdnow = await replayFile({ kafka, path: MASTER, topics: main });
  await produceAll(kafka, main, synthetic(SYNTHETIC, "syn-"));
  const total = cdnow.sent + SYNTHETIC;
  const loadSeconds = (Date.now() - t) / 1000;
  say(`input: ${cdnow.sent} CDNOW + ${SYNTHETIC} synthetic = ${total} events produced in ${loadSeconds.toFixed(1)} s`);

  // (a) raw drain
  const rawSeconds = await rawDrain(kafka, main, total);
  say(`(a) raw drain: ${total} in ${rawSeconds.toFixed(1)} s = ${Math.round(total / rawSeconds)}/s`);

  // (b) ours, then (c) latency at a fixed offered load on the same running service
  const db = await benchDatabase("main");
  const latencyEvents = LATENCY_RATE * LATENCY_SECONDS;
  let offeredSeconds = 0;
  const b = await ours({
    kafka, pool: db.pool, topics: main, mode: "batch", name: "ours",
    during: async () => {
      offeredSeconds = await produceAtRate(kafka, main, synthetic(latencyEvents, "lat-", 2), LATENCY_RATE);
      await caughtUp(kafka, `bench-${run}-ours`, main);
    },
  });
  const recorded = (await db.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM inbox_events")).rows[0]?.n ?? 0;
  if (recorded !== total + latencyEvents) throw new Error(`expected ${total + latencyEvents} recorded events, found ${recorded}`);
  say(`(b) ours: ${total} in ${b.seconds.toFixed(1)} s = ${Math.round(total / b.seconds)}/s (Postgres holds all ${recorded})`);
  const lat = [...b.latencies].sort((x, y) => x - y);
  say(`(c) latency at ${LATENCY_RATE}/s offered (${offeredSeconds.toFixed(1)} s, ${lat.length} events): p50 ${quantile(lat, 0.5)} ms, p99 ${quantile(lat, 0.99)} ms`);

  // (d) naive, and ours on the same sample for a like-for-like ratio
  const sample = topicsFor("sample");
  await createTopics(kafka, sample);
  await produceAll(kafka, sample, synthetic(NAIVE_SAMPLE, "nv-", 3));
  const naiveDb = await benchDatabase("naive");
  const d = await ours({ kafka, pool: naiveDb.pool, topics: sample, mode: "per-event", name: "naive" });
  say(`(d) naive: ${NAIVE_SAMPLE} in ${d.seconds.toFixed(1)} s = ${Math.round(NAIVE_SAMPLE / d.seconds)}/s`);
  const sampleDb = await benchDatabase("sample");
  const bs = await ours({ kafka, pool: sampleDb.pool, topics: sample, mode: "batch", name: "sample" });
  say(`(b') ours on the naive sample: ${NAIVE_SAMPLE} in ${bs.seconds.toFixed(1)} s = ${Math.round(NAIVE_SAMPLE / bs.seconds)}/s`);

  const pgVersion = (await db.pool.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]?.v ?? "?";
  const report: IngestReport = {
    machine: describeMachine({ kafka: "Apache Kafka 3.9.1 (Maven), single node, heap 1 GiB, C2 JIT", postgres: pgVersion, redis: "7 (local)", concurrency: String(CONCURRENCY) }),
    input: { cdnow: cdnow.sent, synthetic: SYNTHETIC, customers: CUSTOMERS, total, topics: 4, partitionsPerTopic: 3, producedInSeconds: loadSeconds },
    raw: { events: total, seconds: rawSeconds, perSecond: total / rawSeconds },
    ours: { events: total, seconds: b.seconds, perSecond: total / b.seconds },
    latency: { offeredPerSecond: LATENCY_RATE, seconds: offeredSeconds, events: lat.length, p50ms: quantile(lat, 0.5), p99ms: quantile(lat, 0.99), maxMs: lat[lat.length - 1] ?? NaN },
    naive: { events: NAIVE_SAMPLE, seconds: d.seconds, perSecond: NAIVE_SAMPLE / d.seconds },
    oursOnNaiveSample: { events: NAIVE_SAMPLE, seconds: bs.seconds, perSecond: NAIVE_SAMPLE / bs.seconds },
  };
  writeReport(`${root}docs/benchmarks`, { ingest: report });
  say("wrote docs/benchmarks.md and docs/benchmarks.json");
} finally {
  for (const step of cleanup.reverse()) await step().catch((e: unknown) => console.error(e));
}
