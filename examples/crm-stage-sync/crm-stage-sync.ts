// A CRM-side consumer of `lifecycle-stage-changed`: keeps a local table with each customer's
// current stage in sync with the topic, and erases a customer's row when the topic says they
// were erased (`lifecycle.customer.erased`). It tolerates what at-least-once delivery brings:
// the same event twice, an older transition arriving after a newer one, and being killed at
// any point and restarted. Run it with `npx tsx examples/crm-stage-sync/crm-stage-sync.ts`
// (README.md beside this file); the test imports `runCrmStageSync` to run it in-process.
import { realpathSync } from "node:fs";
import { pathToFileURL } from "node:url";
import type { EachBatchPayload, Kafka } from "kafkajs";
import pg from "pg";
import { z } from "zod";
import { kafkaEnv, loadConfig, logEnv } from "@lifecycle/config";
import { ensureDatabase } from "@lifecycle/db";
import { StageTopicEvent, TOPICS } from "@lifecycle/events";
import { createKafkaFromSettings, verifyKafka } from "@lifecycle/kafka";
import { createLogger, redactUrl, type Logger } from "@lifecycle/logging";
import { applyStageChanges, ensureCrmSchema } from "./sync-store.js";

export { applyStageChanges, ensureCrmSchema, transitionSeq, type ApplyResult } from "./sync-store.js";

export interface CrmStageSyncOptions {
  kafka: Kafka;
  /** The CRM's database; the example's tables are created in it if missing. */
  pool: pg.Pool;
  topic: string;
  /** The consumer group: its committed offsets are where a restart resumes. */
  groupId: string;
  log: Logger;
  /** How long a silent (killed) member keeps its partitions. @defaultValue 30000 */
  sessionTimeoutMs?: number;
  /** Called if the consumer stops for good (a non-retriable error): exit and let a supervisor restart. */
  onFatal?: (error: Error) => void;
}

/** Starts syncing; resolves once consuming has begun, to a function that stops it cleanly. */
export async function runCrmStageSync({ kafka, pool, topic, groupId, log, sessionTimeoutMs = 30_000, onFatal }: CrmStageSyncOptions): Promise<() => Promise<void>> {
  await ensureCrmSchema(pool);
  const consumer = kafka.consumer({ groupId, sessionTimeout: sessionTimeoutMs, maxWaitTimeInMs: 500, allowAutoTopicCreation: false });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    log.error({ err: payload.error, restart: payload.restart }, "consumer crashed");
    if (!payload.restart) onFatal?.(payload.error);
  });
  await consumer.connect();
  // A new group starts at the beginning, so the table is built from all the history the topic
  // keeps; a restarted group resumes after its last committed offset, never before it.
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    // We commit offsets ourselves, and only after the batch's transaction has committed. A
    // crash in between redelivers the batch, which the ledger then skips (see sync-store.ts).
    autoCommit: false,
    eachBatchAutoResolve: false,
    eachBatch: (payload) => syncBatch(payload, pool, log),
  });
  // disconnect() waits for the batch in progress, so a stop never leaves half a batch behind
  // (and if it did, the transaction would roll back and the batch come again).
  return () => consumer.disconnect();
}

async function syncBatch(payload: EachBatchPayload, pool: pg.Pool, log: Logger): Promise<void> {
  const { batch } = payload;
  // Stopping, or the partition moved to another member: commit nothing, it will come again.
  if (batch.messages.length === 0 || !payload.isRunning() || payload.isStale()) return;
  const { topic, partition } = batch;

  const events: StageTopicEvent[] = [];
  for (const m of batch.messages) {
    const parsed = parseStageChanged(m.value);
    // A tolerant reader: a message it cannot read is logged and skipped, not retried forever
    // (retrying would block the partition behind it). A stricter consumer would dead-letter it.
    if (parsed.ok) events.push(parsed.event);
    else log.warn({ topic, partition, offset: m.offset, reason: parsed.reason }, "invalid stage change skipped");
  }

  // ONE transaction for the batch: the ledger of processed ids and the stages commit together,
  // so an event is either fully applied and recorded, or not at all and redelivered.
  const result = await inTransaction(pool, (client) => applyStageChanges(client, events));

  // Only now tell Kafka we are done. If this commit fails (or we die right before it), the
  // batch is delivered again and applyStageChanges skips every event in it as a duplicate.
  // With autoCommit off, commitOffsetsIfNecessary() with no argument would commit nothing:
  // hand it the offsets just resolved.
  payload.resolveOffset(batch.lastOffset());
  await payload.commitOffsetsIfNecessary(payload.uncommittedOffsets());
  await payload.heartbeat();
  log.info({ topic, partition, lastOffset: batch.lastOffset(), ...result }, "batch synced");
}

type Parsed = { ok: true; event: StageTopicEvent } | { ok: false; reason: string };

function parseStageChanged(value: Buffer | null): Parsed {
  if (value === null) return { ok: false, reason: "empty message" };
  let json: unknown;
  try {
    json = JSON.parse(value.toString("utf8"));
  } catch {
    return { ok: false, reason: "not JSON" };
  }
  const parsed = StageTopicEvent.safeParse(json);
  if (parsed.success) return { ok: true, event: parsed.data };
  return { ok: false, reason: parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ").slice(0, 500) };
}

/** BEGIN … COMMIT on one pooled client; ROLLBACK and rethrow on failure. */
async function inTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    const result = await fn(client);
    await client.query("COMMIT");
    client.release();
    return result;
  } catch (err) {
    await client.query("ROLLBACK").catch(() => undefined);
    // Discard the connection (it may be the thing that failed). Throwing makes kafkajs retry the
    // batch with backoff, then restart the consumer: nothing was committed, so nothing is lost.
    client.release(true);
    throw err;
  }
}

// ---- The script: configuration from the environment, shutdown on SIGINT/SIGTERM ----

const CrmStageSyncConfig = z.object({
  // Brokers, client id, TLS and SASL: the same settings as the services (a CRM reads a secured cluster too).
  ...kafkaEnv,
  STAGE_CHANGED_TOPIC: z.string().min(1).default(TOPICS.stageChanged),
  /** The CRM's database (created if it does not exist and the role may create it). */
  CRM_DATABASE_URL: z.url().default("postgres://postgres@127.0.0.1:5432/crm_example"),
  /** Keep it stable across restarts: the group's committed offsets are the resume point. */
  CRM_GROUP_ID: z.string().min(1).default("crm-stage-sync"),
  /** 6000 is the broker's usual minimum; lower means a killed process's partitions move sooner. */
  CRM_SESSION_TIMEOUT_MS: z.coerce.number().int().min(1_000).default(30_000),
  ...logEnv,
});

async function main(): Promise<void> {
  const config = loadConfig(CrmStageSyncConfig);
  const log = createLogger({ name: "crm-stage-sync", level: config.LOG_LEVEL, secretKeys: ["CRM_DATABASE_URL"] });
  await ensureDatabase(config.CRM_DATABASE_URL).catch((err: unknown) => log.warn({ err }, "could not check or create the database"));
  const pool = new pg.Pool({ connectionString: config.CRM_DATABASE_URL, max: 2, application_name: "crm-stage-sync" });
  // An idle connection dropped by the server must not crash the process; the next query reconnects.
  pool.on("error", (err) => log.warn({ err }, "idle database connection lost"));
  const kafka = createKafkaFromSettings(config, { clientId: "crm-stage-sync", logger: log });
  // A wrong password or CA fails here, naming the setting.
  await verifyKafka(kafka);
  const topic = config.STAGE_CHANGED_TOPIC;
  await waitForTopic(kafka, topic, log);

  const stop = await runCrmStageSync({
    kafka,
    pool,
    topic,
    groupId: config.CRM_GROUP_ID,
    log,
    sessionTimeoutMs: config.CRM_SESSION_TIMEOUT_MS,
    onFatal: () => process.exit(1),
  });

  let stopping = false;
  const shutdown = async (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "stopping");
    await stop();
    await pool.end();
    log.info("stopped");
  };
  const signals: NodeJS.Signals[] = ["SIGINT", "SIGTERM"];
  for (const signal of signals) {
    process.once(signal, () => {
      shutdown(signal).catch((err: unknown) => {
        log.error({ err }, "unclean shutdown");
        process.exit(1);
      });
    });
  }
  log.info({ topic, groupId: config.CRM_GROUP_ID, database: redactUrl(config.CRM_DATABASE_URL) }, "crm-stage-sync running");
}

/** The lifecycle service creates the topic; started first, we wait for it rather than fail. */
async function waitForTopic(kafka: Kafka, topic: string, log: Logger): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    for (let waited = false; !(await admin.listTopics()).includes(topic); waited = true) {
      if (!waited) log.info({ topic }, "waiting for the topic (start the lifecycle service, e.g. npm run demo -- --keep)");
      await new Promise((r) => setTimeout(r, 2_000));
    }
  } finally {
    await admin.disconnect();
  }
}

// Run main() only when this file is the entry point, not when a test imports it.
const entry = process.argv[1];
if (entry !== undefined && pathToFileURL(realpathSync(entry)).href === import.meta.url) await main();
