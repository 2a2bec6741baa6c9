import { fileURLToPath } from "node:url";
import pg from "pg";
import type { Pool } from "@lifecycle/db";
import { StageChanged, syntheticEvents, type LifecycleEvent } from "@lifecycle/events";
import { createKafka, ensureTopics } from "@lifecycle/kafka";
import {
  consumerLag,
  countRecordedEvents,
  createTestLogger,
  describe,
  expect,
  produceEvents,
  readWholeTopic,
  removeRedisKeys,
  startService,
  stateSnapshot,
  test,
  uniqueName,
  waitFor,
  type ServiceProcess,
  type TestInfra,
} from "@lifecycle/testkit";
import { applyEvents, createApplyDeps } from "@lifecycle/pipeline";

// The ingest service as a real process: killed with SIGKILL mid-stream, or cut off from Postgres,
// it must end with exactly the state of an uninterrupted run over the same events.
const INGEST_MAIN = fileURLToPath(new URL("../services/ingest/src/main.ts", import.meta.url));
const COUNT = 20_000;
const logger = createTestLogger("resilience");
const stream = (prefix: string) =>
  [...syntheticEvents({ seed: 42, customers: 2_000, count: COUNT, start: new Date("2026-01-01T00:00:00Z"), end: new Date("2026-06-01T00:00:00Z"), prefix })];

/** The reference: the same events applied in-process, uninterrupted, in batches of 500. */
async function applyReference(pool: Pool, events: LifecycleEvent[]) {
  const deps = createApplyDeps({ pool, rates: { USD: "1" } });
  for (let i = 0; i < events.length; i += 500) {
    await applyEvents(deps, events.slice(i, i + 500).map((event, j) => ({ event, topic: "ref", partition: 0, offset: i + j })));
  }
}

// Every ingest process and queue prefix of the file: the teardown stops the processes (a failed
// test can leave one running) and only then removes the keys their relays wrote under the prefix.
const running: ServiceProcess[] = [];
const queuePrefixes: string[] = [];
test.afterAll(async ({ infra }) => {
  await Promise.all(running.map((s) => s.stop()));
  for (const prefix of queuePrefixes) await removeRedisKeys(infra.redis.url, prefix);
});

async function setup(infra: TestInfra, databaseUrl: string, name: string) {
  const topic = uniqueName(`${name}-in`);
  const kafka = createKafka({ brokers: infra.kafka.brokers, clientId: name, logger });
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [{ topic, numPartitions: 3 }]);
  await admin.disconnect();
  const groupId = uniqueName(`${name}-group`);
  const stageTopic = uniqueName(`${name}-stages`);
  const queuePrefix = uniqueName("lt");
  queuePrefixes.push(queuePrefix);
  const env = {
    ...process.env,
    DATABASE_URL: databaseUrl,
    KAFKA_BROKERS: infra.kafka.brokers.join(","),
    REDIS_URL: infra.redis.url,
    QUEUE_PREFIX: queuePrefix,
    INPUT_TOPICS: topic,
    DLQ_TOPIC: uniqueName(`${name}-dlq`),
    STAGE_CHANGED_TOPIC: stageTopic,
    INGEST_GROUP_ID: groupId,
    // The broker's minimum: a SIGKILLed member's partitions move after 6 s instead of 30 s.
    INGEST_SESSION_TIMEOUT_MS: "6000",
    LOG_LEVEL: "info",
  };
  const start = () =>
    startService({ name: `ingest-${name}`, entry: INGEST_MAIN, env, logDir: fileURLToPath(new URL(`../.run/test-logs/${name}`, import.meta.url)), readyMessage: "ingest running" }).then((s) => (running.push(s), s));
  return { topic, kafka, groupId, stageTopic, start };
}



// Each test produces 20,000 events, runs a process through a fault, and replays a reference.
describe("ingest resilience (a real ingest process)", { timeout: 240_000 }, () => {
  test("killed with SIGKILL mid-stream, restarted, then fed every event again: exactly the uninterrupted state", async ({ infra, database }) => {
    const { topic, kafka, groupId, stageTopic, start } = await setup(infra, database.url, "kill");
    const events = stream("kill-");
    await produceEvents(kafka, topic, events.map((e) => ({ key: e.subject, value: JSON.stringify(e) })));

    const first = await start();
    await waitFor("some events applied", async () => ((await countRecordedEvents(database.pool, "kill-")) >= COUNT / 10 ? true : undefined), { intervalMs: 20 });
    first.child.kill("SIGKILL");
    await first.stop();
    const atKill = await countRecordedEvents(database.pool, "kill-");
    expect(atKill, "the kill must land mid-stream for this test to mean anything").toBeLessThan(COUNT);

    const second = await start();
    try {
      await waitFor("the restarted consumer to catch up", async () => ((await consumerLag(kafka, groupId, topic)) === 0 ? true : undefined), { timeoutMs: 120_000 });
    } finally {
      await second.stop();
    }

    // The kill rarely lands between a batch's database commit and its offset commit, so force
    // that case for every event: rewind the group and let a fresh process consume it all again.
    const admin = kafka.admin();
    await admin.connect();
    await admin.resetOffsets({ groupId, topic, earliest: true });
    await admin.disconnect();
    const third = await start();
    try {
      await waitFor("the redelivered stream to be consumed", async () => ((await consumerLag(kafka, groupId, topic)) === 0 ? true : undefined), { timeoutMs: 120_000 });
      await waitFor("the outbox relay to publish every stage change", async () => {
        const r = await database.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM outbox WHERE kind = 'stage-changed' AND published_at IS NULL");
        return r.rows[0]?.n === 0 ? true : undefined;
      }, { timeoutMs: 60_000 });
    } finally {
      await third.stop();
    }

    // The relay was killed mid-publish too: every recorded stage change still reached the topic,
    // and a message sent twice carries the same event id.
    const transitions = await database.pool.query<{ id: number }>("SELECT id FROM stage_transitions WHERE customer_id LIKE 'kill-%'");
    const published = await readWholeTopic(kafka, stageTopic);
    const ids = published.map((m) => StageChanged.parse(JSON.parse(m.value?.toString() ?? "null")).id);
    expect(transitions.rows.length).toBeGreaterThan(0);
    expect(new Set(ids)).toEqual(new Set(transitions.rows.map((t) => `stage-changed-${t.id}`)));
    await applyReference(database.pool, stream("ref-kill-"));
    expect(await countRecordedEvents(database.pool, "kill-")).toBe(COUNT);
    expect(await stateSnapshot(database.pool, "kill-")).toEqual(await stateSnapshot(database.pool, "ref-kill-"));
  });

  test("a Postgres outage mid-stream (connections killed and refused for 3 s) loses and double-counts nothing", async ({ infra, database }) => {
    const { topic, kafka, groupId, start } = await setup(infra, database.url, "outage");
    const events = stream("out-");
    const service = await start();
    const admin = new pg.Client({ connectionString: infra.postgres.adminUrl });
    await admin.connect();
    const dbName = new URL(database.url).pathname.slice(1);
    try {
      const chunks = 10;
      const size = Math.ceil(events.length / chunks);
      for (let c = 0; c < chunks; c++) {
        await produceEvents(kafka, topic, events.slice(c * size, (c + 1) * size).map((e) => ({ key: e.subject, value: JSON.stringify(e) })));
        if (c === 2) {
          // What a restart looks like to the service: every connection dropped, new ones refused.
          await admin.query(`ALTER DATABASE "${dbName}" WITH ALLOW_CONNECTIONS false`);
          await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", [dbName]);
          await new Promise((r) => setTimeout(r, 3_000));
          await admin.query(`ALTER DATABASE "${dbName}" WITH ALLOW_CONNECTIONS true`);
        }
      }
      await waitFor("the consumer to catch up after the outage", async () => ((await consumerLag(kafka, groupId, topic)) === 0 ? true : undefined), { timeoutMs: 120_000 });
    } finally {
      await admin.query(`ALTER DATABASE "${dbName}" WITH ALLOW_CONNECTIONS true`).catch(() => undefined);
      await admin.end();
      await service.stop();
    }
    const { readFileSync } = await import("node:fs");
    expect(readFileSync(service.logFile, "utf8"), "the outage must actually have been hit").toContain("batch not applied; retrying");
    await applyReference(database.pool, stream("ref-out-"));
    expect(await countRecordedEvents(database.pool, "out-")).toBe(COUNT);
    expect(await stateSnapshot(database.pool, "out-")).toEqual(await stateSnapshot(database.pool, "ref-out-"));
  });
});
