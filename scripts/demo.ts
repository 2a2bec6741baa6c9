// `npm run demo`: the whole product on real infrastructure, from nothing. Starts Kafka, Postgres and
// Redis if needed, the ingest, worker and API services, replays the CDNOW purchase history plus
// seeded synthetic tickets and surveys for those customers, fits the CLV models, and prints the
// stages, the top at-risk customers, NPS/CSAT/CES and where to look (dashboard, API docs, a key).
// On a terminal it then keeps serving until Ctrl-C; elsewhere (or with --exit) it stops.
// --keep keeps serving even without a terminal.
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Partitioners, type Kafka } from "kafkajs";
import { Queue } from "bullmq";
import { z } from "zod";
import { kafkaEnv, loadConfig, pgEnv, redisEnv } from "@lifecycle/config";
import { createApiKeyRepo, createPool, ensureDatabase, migrate, type Pool } from "@lifecycle/db";
import { EngineSettings } from "@lifecycle/domain";
import { createClock } from "@lifecycle/engine";
import { CHANNELS, followUpQueue, INPUT_TOPICS, parseCdnowLine, QUEUES, TOPICS, type CdnowRow } from "@lifecycle/events";
import { createEventPublisher, createKafka } from "@lifecycle/kafka";
import { createLogger, redactUrl } from "@lifecycle/logging";
import { createRedisFromSettings } from "@lifecycle/queue";
import { consumerLag, startService, waitFor, type ServiceProcess } from "@lifecycle/testkit/tools";
import { ensureDemoInfra } from "./lib/demo-infra.js";
import { createProgress } from "./lib/progress.js";
import { describeEngineRun, refitAndSweep } from "./lib/refit-and-sweep.js";
import { replayFile } from "./lib/replay.js";
import { syntheticSupportEvents } from "./lib/synthetic-support.js";

const root = fileURLToPath(new URL("../", import.meta.url));
const cdnowFile = `${root}../shared/data/cdnow/CDNOW_master.txt`;
const args = process.argv.slice(2);
const keep = args.includes("--keep") || (Boolean(process.stdout.isTTY) && !args.includes("--exit"));
const say = (line: string) => console.log(`[demo] ${line}`);

const config = loadConfig(z.object({ ...pgEnv, ...kafkaEnv, ...redisEnv, API_PORT: z.coerce.number().int().default(8080) }));
const apiUrl = `http://127.0.0.1:${config.API_PORT}`;
// The demo replays 1997–98 history: the engine's "now" is the latest event time seen (the
// watermark), not today, or every customer would long have churned.
const env = {
  ...process.env,
  DATABASE_URL: config.DATABASE_URL,
  KAFKA_BROKERS: config.KAFKA_BROKERS.join(","),
  REDIS_URL: config.REDIS_URL,
  LIFECYCLE_CLOCK: "watermark",
  API_HOST: "127.0.0.1",
  API_PORT: String(config.API_PORT),
  SWEEP_INTERVAL_MS: "5000",
  // Retention counts by the same clock: the default 400 days would drop the first months of the
  // 1997-98 history's payloads (their timelines) as soon as the replay ends. The demo keeps them all.
  EVENT_PAYLOAD_RETENTION_DAYS: "3650",
};
const quiet = createLogger({ name: "demo", level: "warn", pretty: false });

// What the summary reads from the API.
const AtRisk = z.object({ items: z.array(z.object({ id: z.string(), reason: z.string().nullable(), valueAtStake: z.string(), basis: z.string(), pAlive: z.number().nullable() })) });
const Score = z.number().nullable();
const Metrics = z.object({
  groups: z.array(z.object({ measures: z.object({ nps: z.object({ score: Score, responses: z.number() }), csat: z.object({ percent: Score, responses: z.number() }), ces: z.object({ average: Score, responses: z.number() }) }) })),
});


if (!existsSync(cdnowFile)) throw new Error(`CDNOW data not found at ${cdnowFile} (shared/ must sit beside the project)`);
const infra = await ensureDemoInfra({ kafkaExplicit: Boolean(process.env.KAFKA_BROKERS), log: say });
const services: ServiceProcess[] = [];
let pool: Pool | undefined;
let demoKeyId: string | undefined;
const shutdown = async () => {
  for (const s of services.reverse()) await s.stop();
  // The demo's admin key ends with the demo (and expires within a day should this not run).
  if (pool && demoKeyId) await createApiKeyRepo(pool).revoke(demoKeyId).catch(() => undefined);
  await pool?.end();
  infra.stop();
};

try {
  if (await ensureDatabase(config.DATABASE_URL)) {
    say(`created database ${redactUrl(config.DATABASE_URL)}`);
    // Job ids are what make a replayed trigger a no-op; queues left from a database that is gone
    // would swallow this run's follow-ups, so a new database starts with empty queues.
    await clearQueues();
  }
  const applied = await migrate({ databaseUrl: config.DATABASE_URL });
  say(`database ${redactUrl(config.DATABASE_URL)}: ${applied.length} migration(s) applied`);
  pool = createPool({ connectionString: config.DATABASE_URL, max: 2 });

  const logDir = `${root}.run/demo`;
  services.push(await startService({ name: "ingest", entry: `${root}services/ingest/src/main.ts`, env, logDir, readyMessage: "ingest running" }));
  services.push(await startService({ name: "worker", entry: `${root}services/worker/src/main.ts`, env, logDir, readyMessage: "worker running" }));
  services.push(await startService({ name: "api", entry: `${root}services/api/src/main.ts`, env, logDir, readyMessage: "api running" }));
  say(`services running: ingest (Kafka consumer), worker (BullMQ follow-ups, stage sweep, CLV refit), api (${apiUrl})`);

  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: "demo", logger: quiet });
  const progress = createProgress("[demo] replaying CDNOW_master.txt", 69_659);
  const replay = await replayFile({ kafka, path: cdnowFile, onProgress: (n) => progress.update(n) });
  progress.done(replay.sent);
  const rows = readCdnowRows();
  const synthetic = syntheticSupportEvents(rows);
  await produce(kafka, synthetic);
  await produceRaw(kafka, TOPICS.purchase, "this is not a CloudEvent");
  say(`sent ${replay.sent.toLocaleString("en-US")} real CDNOW purchases, ${synthetic.length.toLocaleString("en-US")} SYNTHETIC tickets and surveys (source "synthetic-demo") and 1 malformed message`);

  for (const topic of INPUT_TOPICS) await waitForConsumer(kafka, topic);
  say("the ingest consumer has committed every message");

  const engine = await refitAndSweep({ pool, clock: createClock({ mode: "watermark" }), settings: EngineSettings.parse({}) });
  const { id: keyId, key } = await createApiKeyRepo(pool).create({ name: "demo", scopes: ["admin"], expiresAt: new Date(Date.now() + 86_400_000) });
  demoKeyId = keyId;
  const summary = await collectSummary(pool, kafka, key);
  printSummary(summary, describeEngineRun(engine), key);

  if (keep) {
    say(`serving: dashboard ${apiUrl}/dashboard, API docs ${apiUrl}/docs. Ctrl-C stops everything.`);
    await new Promise<void>((resolve) => process.once("SIGINT", () => resolve()));
  }
} finally {
  await shutdown();
  say("stopped everything the demo started");
}

function readCdnowRows(): CdnowRow[] {
  return readFileSync(cdnowFile, "utf8").split("\n").flatMap((line) => parseCdnowLine(line) ?? []);
}

async function produce(kafka: Kafka, events: readonly { type: string; subject: string }[]) {
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
  await producer.connect();
  try {
    const publish = createEventPublisher({ producer });
    for (let i = 0; i < events.length; i += 2_000) await publish(events.slice(i, i + 2_000));
  } finally {
    await producer.disconnect();
  }
}

async function produceRaw(kafka: Kafka, topic: string, value: string) {
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
  await producer.connect();
  await producer.send({ topic, messages: [{ key: "demo", value }] });
  await producer.disconnect();
}

async function clearQueues(): Promise<void> {
  const connection = createRedisFromSettings(config, "demo");
  try {
    const names = [QUEUES.maintenance, ...CHANNELS.map(followUpQueue)];
    for (const name of names) await new Queue(name, { connection, prefix: config.QUEUE_PREFIX }).obliterate({ force: true });
  } finally {
    connection.disconnect();
  }
}

/** Waits until the group's committed offsets reach the end of every partition of `topic`. */
async function waitForConsumer(kafka: Kafka, topic: string): Promise<void> {
  await waitFor(`the ingest consumer to catch up on ${topic} (see .run/demo/ingest.log)`, async () => ((await consumerLag(kafka, "lifecycle-ingest", topic)) === 0 ? true : undefined), { timeoutMs: 300_000, intervalMs: 500 });
}

/** Messages ever written to a topic: the sum of its partitions' high watermarks. */
async function countMessages(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high), 0);
  } finally {
    await admin.disconnect();
  }
}

async function api<T>(path: string, key: string, schema: z.ZodType<T>): Promise<T> {
  const res = await fetch(`${apiUrl}${path}`, { headers: { authorization: `Bearer ${key}` } });
  if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
  return schema.parse(await res.json());
}

async function collectSummary(db: Pool, kafka: Kafka, key: string) {
  const counts = await db.query<{ events: number; synthetic: number; customers: number; revenue: string }>(
    `SELECT (SELECT count(*)::int FROM inbox_events) AS events, (SELECT count(*)::int FROM inbox_events WHERE source = 'synthetic-demo') AS synthetic,
            (SELECT count(*)::int FROM customers) AS customers, (SELECT coalesce(sum(revenue), 0)::numeric(14, 2)::text FROM customers) AS revenue`,
  );
  const stages = await db.query<{ stage: string | null; n: number }>("SELECT stage, count(*)::int AS n FROM customers GROUP BY stage ORDER BY n DESC");
  const clock = await db.query<{ watermark: string }>("SELECT to_char(max(watermark) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') AS watermark FROM lifecycle_watermarks");
  const outcomes = await db.query<{ playbook: string; status: string; n: number }>(
    "SELECT split_part(job_id, '|', 2) AS playbook, status, count(*)::int AS n FROM job_outcomes GROUP BY 1, 2 ORDER BY 1, 2",
  );
  const atRisk = await api("/v1/alerts/at-risk?limit=5", key, AtRisk);
  const metrics = await api("/v1/metrics?from=1997-01-01T00:00:00Z&to=1998-07-01T00:00:00Z", key, Metrics);
  return { counts: counts.rows[0], stages: stages.rows, watermark: clock.rows[0]?.watermark ?? "?", outcomes: outcomes.rows, atRisk: atRisk.items, overall: metrics.groups[0]?.measures, deadLetters: await countMessages(kafka, TOPICS.deadLetter) };
}

function printSummary(s: Awaited<ReturnType<typeof collectSummary>>, engine: string[], key: string) {
  const n = (x: number) => x.toLocaleString("en-US");
  const fmt = (x: number | null | undefined, d = 1) => (x === null || x === undefined ? "n/a" : x.toFixed(d));
  console.log(`
──────────────── demo summary ────────────────
recorded in Postgres   ${n(s.counts?.events ?? 0)} events (${n(s.counts?.synthetic ?? 0)} of them synthetic), each id once; re-running adds nothing
customers              ${n(s.counts?.customers ?? 0)}, revenue $${s.counts?.revenue ?? "?"}
dead-lettered          ${n(s.deadLetters)} message(s) in '${TOPICS.deadLetter}', each with a machine-readable reason

stages at the watermark (the latest event time seen: ${s.watermark} UTC)
  ${s.stages.map((r) => `${r.stage ?? "(none)"} ${n(r.n)}`).join(" · ")}

lifecycle engine
${engine.map((l) => `  ${l}`).join("\n")}

top at-risk customers by value at stake (GET /v1/alerts/at-risk)
${s.atRisk.map((c) => `  ${c.id.padEnd(8)} $${c.valueAtStake.padStart(9)} (${c.basis})  ${(c.reason ?? "").padEnd(20)} P(alive) ${fmt(c.pAlive, 2)}`).join("\n") || "  (none)"}

experience, 1997-01 to 1998-06 (GET /v1/metrics; surveys and tickets are synthetic)
  NPS ${fmt(s.overall?.nps.score)} (${n(s.overall?.nps.responses ?? 0)} answers) · CSAT ${fmt(s.overall?.csat.percent)}% (${n(s.overall?.csat.responses ?? 0)}) · CES ${fmt(s.overall?.ces.average, 2)} (${n(s.overall?.ces.responses ?? 0)})

follow-ups run so far (replayed history: a follow-up whose moment passed long before the
watermark is skipped as expired, not sent late)
${s.outcomes.map((o) => `  ${o.playbook.padEnd(20)} ${o.status.padEnd(8)} ${n(o.n).padStart(6)}`).join("\n") || "  (none yet)"}

where to look
  dashboard  ${apiUrl}/dashboard   (paste the key below)
  API docs   ${apiUrl}/docs   (any user name; the key below as the password)
  API key    ${key}   (admin scope, revoked when the demo stops; npm run keys -- create --scope read makes more)
  Postgres   psql ${redactUrl(config.DATABASE_URL)} -c 'select customer_id, stage, p_alive, predicted_clv from customers limit 5'
  logs       .run/demo/ingest.log, .run/demo/worker.log, .run/demo/api.log
───────────────────────────────────────────────`);
}
