import { fileURLToPath } from "node:url";
import { StageChanged, syntheticEvents, type LifecycleEvent } from "@lifecycle/events";
import { createKafka, ensureTopics } from "@lifecycle/kafka";
import { createFollowUpQueues, createRedisConnection } from "@lifecycle/queue";
import { applyEvents, createApplyDeps } from "@lifecycle/pipeline";
import {
  consumerLag,
  countRecordedEvents,
  createTestLogger,
  describe,
  expect,
  produceEvents,
  readWholeTopic,
  startService,
  stateSnapshot,
  test,
  uniqueName,
  waitFor,
  type ServiceProcess,
} from "@lifecycle/testkit";

// Issue 9's scale-out done-when: two ingest replicas share a 4-partition topic, one of them is
// SIGKILLed five times while 50,000 events go through, and the end state is exactly that of an
// uninterrupted run; every stage change reached its topic and every follow-up its BullMQ job,
// under the same ids however often they were re-sent.
const INGEST_MAIN = fileURLToPath(new URL("../services/ingest/src/main.ts", import.meta.url));
const COUNT = 50_000;
const CHUNKS = 5;
const HORIZON_MS = 7 * 86_400_000;
const logger = createTestLogger("replicas-sigkill");
// The last six hours, as live traffic: follow-ups are written live (none expires during the test).
const end = new Date(Date.now() - 60_000);
const start = new Date(end.getTime() - 6 * 3_600_000);
const stream = (prefix: string): LifecycleEvent[] => [...syntheticEvents({ seed: 9, customers: 5_000, count: COUNT, start, end, prefix })];



describe("two ingest replicas, one SIGKILLed five times mid-stream", { timeout: 300_000 }, () => {
  test("end in the uninterrupted state, with every stage change and follow-up under its one id", async ({ infra, database }) => {
    const topic = uniqueName("sk-in");
    const stageTopic = uniqueName("sk-stages");
    const groupId = uniqueName("sk-group");
    const queuePrefix = uniqueName("sk-q");
    const kafka = createKafka({ brokers: infra.kafka.brokers, clientId: "replicas-sigkill", logger });
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, [{ topic, numPartitions: 4 }]);
    await admin.disconnect();
    const env = {
      ...process.env,
      DATABASE_URL: database.url,
      KAFKA_BROKERS: infra.kafka.brokers.join(","),
      REDIS_URL: infra.redis.url,
      QUEUE_PREFIX: queuePrefix,
      INPUT_TOPICS: topic,
      DLQ_TOPIC: uniqueName("sk-dlq"),
      STAGE_CHANGED_TOPIC: stageTopic,
      INGEST_GROUP_ID: groupId,
      TOPIC_PARTITIONS: "4",
      // The broker's minimum: a SIGKILLed member's partitions move after 6 s instead of 30 s.
      INGEST_SESSION_TIMEOUT_MS: "6000",
      // Every follow-up due within a week is relayed to BullMQ during the test.
      FOLLOW_UP_HORIZON_MS: String(HORIZON_MS),
      PROBE_PORT: "-1",
      LOG_LEVEL: "info",
    };
    let started = 0;
    const startReplica = () =>
      startService({
        name: `ingest-${++started}`,
        entry: INGEST_MAIN,
        env,
        logDir: fileURLToPath(new URL(`../.run/test-logs/${groupId}`, import.meta.url)),
        readyMessage: "ingest running",
      });
    const caughtUp = () => waitFor("the group to catch up", async () => ((await consumerLag(kafka, groupId, topic)) === 0 ? true : undefined), { timeoutMs: 120_000 });

    const events = stream("sk-");
    const size = COUNT / CHUNKS;
    let replicas: ServiceProcess[] = [];
    const redis = createRedisConnection(infra.redis.url, "replicas-sigkill");
    const followUps = createFollowUpQueues({ connection: redis, prefix: queuePrefix });
    try {
      replicas = [await startReplica(), await startReplica()];
      // Events arrive in chunks; a quarter of a second into each (its first transaction under way: a
      // transaction takes a whole fetch, so counting applied events cannot see half a chunk), a
      // replica is killed without warning and started again: five kills, alternating replicas,
      // each landing while events of its chunk are pending.
      for (let c = 0; c < CHUNKS; c++) {
        await produceEvents(kafka, topic, events.slice(c * size, (c + 1) * size).map((e) => ({ key: e.subject, value: JSON.stringify(e) })));
        const produced = (c + 1) * size;
        await new Promise((r) => setTimeout(r, 250));
        const before = await countRecordedEvents(database.pool, "sk-");
        const victim = c % 2;
        const killed = replicas[victim];
        killed?.child.kill("SIGKILL");
        await killed?.stop();
        expect(before, `kill ${c + 1} must land while events of its chunk are still pending`).toBeLessThan(produced);
        replicas[victim] = await startReplica();
      }
      await caughtUp();

      // A kill between a batch's database commit and its offset commit redelivers that batch; force
      // it for every event: rewind the group and let both replicas consume everything again.
      await Promise.all(replicas.map((r) => r.stop()));
      const rewind = kafka.admin();
      await rewind.connect();
      await rewind.resetOffsets({ groupId, topic, earliest: true });
      await rewind.disconnect();
      replicas = [await startReplica(), await startReplica()];
      await caughtUp();
      await waitFor("the relays to publish every due row", async () => {
        const r = await database.pool.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL AND failed_at IS NULL AND (due_at IS NULL OR due_at < now() + $1 * interval '1 millisecond')",
          [HORIZON_MS - 60_000],
        );
        return r.rows[0]?.n === 0 ? true : undefined;
      }, { timeoutMs: 60_000 });
    } finally {
      await Promise.all(replicas.map((r) => r.stop()));
    }

    try {
      expect(await countRecordedEvents(database.pool, "sk-")).toBe(COUNT);

      // Every stage change is on the topic under its stable id; a re-sent one is the same message.
      const transitions = await database.pool.query<{ id: number }>("SELECT id FROM stage_transitions WHERE customer_id LIKE 'sk-%'");
      expect(transitions.rows.length).toBeGreaterThan(0);
      const published = (await readWholeTopic(kafka, stageTopic)).map((m) => StageChanged.parse(JSON.parse(m.value?.toString() ?? "null")));
      expect(new Set(published.map((e) => e.id))).toEqual(new Set(transitions.rows.map((t) => `stage-changed-${t.id}`)));
      const firstById = new Map<string, StageChanged>();
      for (const e of published) {
        const first = firstById.get(e.id);
        if (first) expect(e, `a repeat of ${e.id} carries the same event`).toEqual(first);
        else firstById.set(e.id, e);
      }

      // Every follow-up row is published or still waiting beyond the horizon, none given up; the
      // jobs in BullMQ are exactly the published rows, under their dedupe keys.
      const rows = await database.pool.query<{ dedupe_key: string; published: boolean; failed: boolean }>(
        "SELECT dedupe_key, published_at IS NOT NULL AS published, failed_at IS NOT NULL AS failed FROM outbox WHERE kind = 'follow-up' AND payload->>'customerId' LIKE 'sk-%'",
      );
      expect(rows.rows.filter((r) => r.failed)).toEqual([]);
      const publishedKeys = rows.rows.filter((r) => r.published).map((r) => r.dedupe_key);
      expect(publishedKeys.length).toBeGreaterThan(1_000);
      const jobIds: string[] = [];
      for (const queue of Object.values(followUps.queues)) {
        const jobs = await queue.getJobs(["waiting", "delayed", "prioritized", "active", "completed", "failed", "waiting-children"]);
        jobIds.push(...jobs.map((j) => j.id ?? ""));
      }
      expect(jobIds.length, "each job once").toBe(new Set(jobIds).size);
      expect(new Set(jobIds)).toEqual(new Set(publishedKeys));

      // The uninterrupted reference: the same events in-process, in batches of 500, under another prefix.
      const deps = createApplyDeps({ pool: database.pool, rates: { USD: "1" } });
      const reference = stream("ref-sk-");
      for (let i = 0; i < reference.length; i += 500) {
        await applyEvents(deps, reference.slice(i, i + 500).map((event, j) => ({ event, topic: "ref", partition: 0, offset: i + j })));
      }
      expect(await stateSnapshot(database.pool, "sk-")).toEqual(await stateSnapshot(database.pool, "ref-sk-"));
    } finally {
      await followUps.obliterate();
      await followUps.close();
      redis.disconnect();
    }
  });
});
