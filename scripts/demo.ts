// `npm run demo`: starts the infrastructure and the services, sends a small stream of real
// CDNOW purchases (plus one malformed message), and prints what happened and where to look.
// `npm run demo -- --keep` leaves everything running until Ctrl-C.
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Partitioners } from "kafkajs";
import { z } from "zod";
import { kafkaEnv, loadConfig, pgEnv, redisEnv } from "@lifecycle/config";
import { createPool, ensureDatabase, migrate } from "@lifecycle/db";
import { EngineSettings } from "@lifecycle/domain";
import { createClock } from "@lifecycle/engine";
import { Queue } from "bullmq";
import { cdnowRowsToEvents, parseCdnowLine, QUEUES, TOPICS, type CdnowRow } from "@lifecycle/events";
import { createRedisConnection } from "@lifecycle/queue";
import { createKafka, ensureTopics } from "@lifecycle/kafka";
import { createLogger, redactUrl } from "@lifecycle/logging";
import { ensureDemoInfra } from "./lib/demo-infra.js";
import { describeEngineRun, refitAndSweep } from "./lib/refit-and-sweep.js";
import { consumerLag, startService, waitFor, type ServiceProcess } from "@lifecycle/testkit/tools";

const ROWS = 400;
const root = fileURLToPath(new URL("../", import.meta.url));
const cdnowFile = `${root}../shared/data/cdnow/CDNOW_master.txt`;
const keep = process.argv.includes("--keep");
const say = (line: string) => console.log(`[demo] ${line}`);

const config = loadConfig(z.object({ ...pgEnv, ...kafkaEnv, ...redisEnv }));
// The demo replays 1997–98 history: the engine's "now" is the latest event time seen (the
// watermark), not today, or every customer would long have churned.
const env = { ...process.env, DATABASE_URL: config.DATABASE_URL, KAFKA_BROKERS: config.KAFKA_BROKERS.join(","), REDIS_URL: config.REDIS_URL, LIFECYCLE_CLOCK: "watermark" };
const quiet = createLogger({ name: "demo", level: "warn", pretty: false });

const infra = await ensureDemoInfra({ kafkaExplicit: Boolean(process.env.KAFKA_BROKERS), log: say });
const services: ServiceProcess[] = [];
let pool: ReturnType<typeof createPool> | undefined;
const shutdown = async () => {
  for (const s of services.reverse()) await s.stop();
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

  const logDir = `${root}.run/demo`;
  services.push(await startService({ name: "ingest", entry: `${root}services/ingest/src/main.ts`, env, logDir, readyMessage: "ingest running" }));
  services.push(await startService({ name: "worker", entry: `${root}services/worker/src/main.ts`, env, logDir, readyMessage: "worker running" }));
  say("services running: ingest (Kafka consumer), worker (BullMQ)");

  const events = cdnowRowsToEvents(readSampleRows());
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: "demo", logger: quiet });
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [{ topic: TOPICS.purchase }]);
  await admin.disconnect();
  await producer.connect();
  await producer.send({ topic: TOPICS.purchase, messages: events.map((e) => ({ key: e.subject, value: JSON.stringify(e) })) });
  await producer.send({ topic: TOPICS.purchase, messages: [{ key: "demo", value: "this is not a CloudEvent" }] });
  await producer.disconnect();
  const customers = new Set(events.map((e) => e.subject));
  say(`sent ${events.length} CDNOW purchases (${customers.size} customers) and 1 malformed message to '${TOPICS.purchase}'`);

  await waitForConsumerCaughtUp(kafka, "lifecycle-ingest", TOPICS.purchase);
  say("the ingest consumer has committed every message it was sent");
  pool = createPool({ connectionString: config.DATABASE_URL, max: 2 });
  const ids = events.map((e) => e.id);
  const summary = await waitForResults(pool, ids, [...customers]);
  const deadLetters = await countMessages(kafka, TOPICS.deadLetter);
  // What the worker's schedule does daily (and every minute for stages), run now for the summary.
  const engine = await refitAndSweep({ pool, clock: createClock({ mode: "watermark" }), settings: EngineSettings.parse({}) });
  const valued = await topCustomersByValue(pool, [...customers]);
  printSummary({ ...summary, deadLetters, engine: describeEngineRun(engine), valued }, events.length, customers.size);

  if (keep) {
    say("running until Ctrl-C ...");
    await new Promise<void>((resolve) => process.once("SIGINT", () => resolve()));
  }
} finally {
  await shutdown();
  say("stopped everything the demo started");
}

async function clearQueues(): Promise<void> {
  const connection = createRedisConnection(config.REDIS_URL, "demo");
  try {
    for (const name of Object.values(QUEUES)) await new Queue(name, { connection, prefix: config.QUEUE_PREFIX }).obliterate({ force: true });
  } finally {
    connection.disconnect();
  }
}

function readSampleRows(): CdnowRow[] {
  if (!existsSync(cdnowFile)) throw new Error(`CDNOW data not found at ${cdnowFile} (shared/ must sit beside the project)`);
  const rows: CdnowRow[] = [];
  for (const line of readFileSync(cdnowFile, "utf8").split("\n")) {
    const row = parseCdnowLine(line);
    if (row) rows.push(row);
    if (rows.length === ROWS) break;
  }
  return rows;
}

/** Waits until the group's committed offsets reach the end of every partition of `topic`. */
async function waitForConsumerCaughtUp(kafka: ReturnType<typeof createKafka>, groupId: string, topic: string): Promise<void> {
  await waitFor(`the ingest consumer to catch up on ${topic} (see .run/demo/ingest.log)`, async () => ((await consumerLag(kafka, groupId, topic)) === 0 ? true : undefined), { timeoutMs: 60_000, intervalMs: 250 });
}

/** Messages ever written to a topic: the sum of its partitions' high watermarks. */
async function countMessages(kafka: ReturnType<typeof createKafka>, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((n, p) => n + Number(p.high), 0);
  } finally {
    await admin.disconnect();
  }
}

interface Valued {
  customer_id: string;
  stage: string | null;
  p_alive: number | null;
  expected_purchases: number | null;
  predicted_clv: string | null;
  historical_clv: string;
  health_score: number;
}

/** The demo's customers with the most predicted value: stage, P(alive), next year's purchases. */
async function topCustomersByValue(db: NonNullable<typeof pool>, customerIds: string[]): Promise<Valued[]> {
  const r = await db.query<Valued>(
    `SELECT customer_id, stage, p_alive, expected_purchases, predicted_clv::numeric(12, 2)::text AS predicted_clv,
            historical_clv::numeric(12, 2)::text AS historical_clv, health_score
       FROM customers WHERE customer_id = ANY($1) ORDER BY predicted_clv DESC NULLS LAST LIMIT 5`,
    [customerIds],
  );
  return r.rows;
}

interface Summary {
  engine?: string[];
  valued?: Valued[];
  deadLetters?: number;
  recorded: number;
  revenue: string;
  thankYous: number;
  outcomes: { playbook: string; status: string; n: number; example: string | null }[];
  topCustomers: { subject: string; purchases: number; spend: string }[];
}

async function waitForResults(db: NonNullable<typeof pool>, ids: string[], customerIds: string[]): Promise<Summary> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const r = await db.query<{ recorded: number; revenue: string; thanked: number }>(
      `SELECT (SELECT count(*)::int FROM inbox_events WHERE event_id = ANY($1)) AS recorded,
              (SELECT coalesce(sum((data->>'amount')::numeric), 0)::text FROM inbox_events WHERE event_id = ANY($1)) AS revenue,
              (SELECT count(*)::int FROM job_outcomes WHERE customer_id = ANY($2) AND job_id LIKE 'fu|thank-you|%') AS thanked`,
      [ids, customerIds],
    );
    const row = r.rows[0];
    if (row && row.recorded === ids.length && row.thanked === customerIds.length) {
      const top = await db.query<{ subject: string; purchases: number; spend: string }>(
        `SELECT subject, count(*)::int AS purchases, sum((data->>'amount')::numeric)::text AS spend
           FROM inbox_events WHERE event_id = ANY($1) GROUP BY subject ORDER BY sum((data->>'amount')::numeric) DESC LIMIT 5`,
        [ids],
      );
      const outcomes = await db.query<{ playbook: string; status: string; n: number; example: string | null }>(
        `SELECT split_part(job_id, '|', 2) AS playbook, status, count(*)::int AS n, min(detail) AS example
           FROM job_outcomes WHERE customer_id = ANY($1) GROUP BY 1, 2 ORDER BY 1, 2`,
        [customerIds],
      );
      return { recorded: row.recorded, revenue: row.revenue, thankYous: row.thanked, topCustomers: top.rows, outcomes: outcomes.rows };
    }
    if (Date.now() > deadline) throw new Error(`timed out: ${row?.recorded ?? 0}/${ids.length} events recorded, ${row?.thanked ?? 0}/${customerIds.length} thank-you follow-ups run`);
    await new Promise((res) => setTimeout(res, 500));
  }
}

function printSummary(s: Summary, sent: number, customers: number) {
  console.log(`
──────────────── demo summary ────────────────
events sent            ${sent} purchases + 1 malformed
recorded in Postgres   ${s.recorded} (each event id once; re-running the demo adds nothing)
revenue recorded       $${s.revenue}
dead-lettered          ${s.deadLetters ?? "?"} message(s) in '${TOPICS.deadLetter}', each with a machine-readable reason
thank-you follow-ups   ${s.thankYous} of ${customers} customers (one job per customer: BullMQ job id)

follow-ups run so far (replayed history: the worker's clock is the watermark, so a follow-up
whose moment passed long before it is skipped as expired, not sent late)
${s.outcomes.map((o) => `  ${o.playbook.padEnd(20)} ${o.status.padEnd(8)} ${String(o.n).padStart(4)}${o.status === "sent" ? "" : `  e.g. ${(o.example ?? "").slice(0, 60)}`}`).join("\n")}

top customers by spend
${s.topCustomers.map((c) => `  ${c.subject.padEnd(8)} ${String(c.purchases).padStart(3)} purchases  $${c.spend}`).join("\n")}

lifecycle engine (watermark clock: the latest event time seen)
${(s.engine ?? []).map((l) => `  ${l}`).join("\n")}

most valuable next year (predicted CLV, BG/NBD × Gamma-Gamma, 10% discount)
${(s.valued ?? []).map((c) => `  ${c.customer_id.padEnd(8)} ${(c.stage ?? "(none)").padEnd(8)} P(alive) ${(c.p_alive ?? 0).toFixed(2)}  ${(c.expected_purchases ?? 0).toFixed(1)} purchases  $${c.predicted_clv ?? "?"} (so far $${c.historical_clv}, health ${c.health_score})`).join("\n")}

where to look
  Postgres   psql ${redactUrl(config.DATABASE_URL)} -c 'select customer_id, stage, p_alive, predicted_clv from customers limit 5'
             (stage history: stage_transitions; follow-ups: job_outcomes)
  Kafka      topics ${TOPICS.purchase}, ${TOPICS.deadLetter} on ${config.KAFKA_BROKERS.join(",")}
  logs       .run/demo/ingest.log, .run/demo/worker.log
───────────────────────────────────────────────`);
}
