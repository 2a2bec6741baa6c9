import { EngineSettings } from "@lifecycle/domain";
import { createClock } from "@lifecycle/engine";
import { createKafka, describeTopicRetention, ensureTopics, type TopicRetention } from "@lifecycle/kafka";
import { createRedisConnection } from "@lifecycle/queue";
import { createTestLogger, describe, expect, test, uniqueName, waitFor, withTestDatabase, type TestDatabase } from "@lifecycle/testkit";
import { createMaintenanceService } from "@lifecycle/worker/maintenance";
import type { TestInfra } from "@lifecycle/testkit";

// Event ids must stay as long as an input topic can hand the event to the consumer again (a reset
// group offset, a new group): the retention run keeps them at least that long, whatever
// EVENT_DEDUPE_WINDOW_DAYS says, reading the topics' retention from the broker.
const DAY = 86_400_000;
const AGES = [10, 100, 300, 1_000];

/** Event ids recorded 10, 100, 300 and 1,000 days ago. */
async function recordIds(db: TestDatabase) {
  for (const days of AGES) {
    await db.pool.query("INSERT INTO event_ids (event_key, recorded_at) VALUES (md5($1)::uuid, now() - make_interval(days => $2))", [`id-${days}`, days]);
  }
}

/** The ages (days) of the ids left after one retention run of the worker's maintenance with a 90-day setting. */
async function idsLeftAfterRetention(infra: TestInfra, db: TestDatabase, inputTopicRetention: () => Promise<readonly TopicRetention[]>): Promise<number[]> {
  await recordIds(db);
  const connection = createRedisConnection(infra.redis.url, "dedupe-window-test");
  const maintenance = createMaintenanceService({
    pool: db.pool, connection, prefix: uniqueName("maint"), logger: createTestLogger("maintenance"),
    clock: createClock({ mode: "wall" }), settings: EngineSettings.parse({}), modelCacheMs: 0,
    sweepEveryMs: 3_600_000, refitEveryMs: 3_600_000, initialRefitDelayMs: 3_600_000, initialRetentionDelayMs: 0,
    retention: { payloadDays: 400, dedupeDays: 90, outboxHours: 24, outcomeDays: 400, everyMs: 3_600_000 },
    inputTopicRetention,
  });
  await maintenance.start();
  try {
    await waitFor("a retention run", async () => ((await db.pool.query("SELECT 1 FROM retention_runs")).rowCount ? true : undefined), { timeoutMs: 20_000 });
  } finally {
    await maintenance.queue.obliterate({ force: true });
    await maintenance.stop();
    connection.disconnect();
  }
  const left = await db.pool.query<{ key: string }>("SELECT event_key::text AS key FROM event_ids");
  const keys = new Set(left.rows.map((r) => r.key));
  const keyOf = async (days: number) => (await db.pool.query<{ key: string }>("SELECT md5($1)::uuid::text AS key", [`id-${days}`])).rows[0]?.key;
  const ages: number[] = [];
  for (const days of AGES) if (keys.has((await keyOf(days)) ?? "")) ages.push(days);
  return ages;
}

describe("the dedupe window and the input topics' retention", { timeout: 120_000 }, () => {
  test("the broker's retention is read, and event ids are kept as long as an input topic can keep an event", async ({ infra }) => {
    const kafka = createKafka({ brokers: infra.kafka.brokers, clientId: "dedupe-window-test", logger: createTestLogger("kafka") });
    const admin = kafka.admin();
    await admin.connect();
    const [long, plain, compacted] = [uniqueName("dw-long"), uniqueName("dw-plain"), uniqueName("dw-compact")];
    try {
      await ensureTopics(admin, [
        { topic: long, numPartitions: 1, configs: { "retention.ms": String(200 * DAY), "segment.ms": String(DAY) } },
        { topic: plain, numPartitions: 1 },
        { topic: compacted, numPartitions: 1, configs: { "cleanup.policy": "compact" } },
      ]);
      const described = await describeTopicRetention(admin, [long, plain, compacted]);
      // The override as set; the plain topic gets the broker's defaults (log.retention.hours=168, segments of 7 days).
      expect(described).toEqual([
        { topic: long, retentionMs: 200 * DAY, segmentMs: DAY, compactOnly: false },
        { topic: plain, retentionMs: 7 * DAY, segmentMs: 7 * DAY, compactOnly: false },
        { topic: compacted, retentionMs: 7 * DAY, segmentMs: 7 * DAY, compactOnly: true },
      ]);

      await withTestDatabase(infra.postgres.adminUrl, async (db) => {
        // 200 days plus a day's segment: the window is 201 days, not the setting's 90.
        expect(await idsLeftAfterRetention(infra, db, () => describeTopicRetention(admin, [plain, long]))).toEqual([10, 100]);
      });
      await withTestDatabase(infra.postgres.adminUrl, async (db) => {
        // Topics that keep events 7 (+7) days: the setting's 90 days decide.
        expect(await idsLeftAfterRetention(infra, db, () => describeTopicRetention(admin, [plain]))).toEqual([10]);
      });
      await withTestDatabase(infra.postgres.adminUrl, async (db) => {
        // A compacted input topic never deletes by age: no id is deleted.
        expect(await idsLeftAfterRetention(infra, db, () => describeTopicRetention(admin, [plain, compacted]))).toEqual(AGES);
      });
      await withTestDatabase(infra.postgres.adminUrl, async (db) => {
        // A topic the broker does not know (no rights to describe it, or not made yet): the setting, and a warning.
        expect(await idsLeftAfterRetention(infra, db, () => describeTopicRetention(admin, [uniqueName("dw-missing")]))).toEqual([10]);
      });
    } finally {
      await admin.deleteTopics({ topics: [long, plain, compacted], timeout: 30_000 }).catch(() => undefined);
      await admin.disconnect();
    }
  });
});
