import { fileURLToPath } from "node:url";
import { afterAll } from "vitest";
import type { Kafka } from "kafkajs";
import { createKafka } from "@lifecycle/kafka";
import { createJobQueue, createRedisConnection } from "@lifecycle/queue";
import { consumerLag, createTestLogger, describe, expect, test, uniqueName, waitFor } from "@lifecycle/testkit";
import { cdnowTotalsInPostgres } from "../scripts/lib/cdnow-totals.js";
import { replayFile } from "../scripts/lib/replay.js";
import { createIngestService, type IngestService } from "../services/ingest/src/ingest-service.js";

// The whole CDNOW master file (shared/data/cdnow, see its PROVENANCE.md) through Kafka and the
// ingest service, twice: Postgres must hold exactly the file's purchases, customers and dollars.
const MASTER = fileURLToPath(new URL("../../shared/data/cdnow/CDNOW_master.txt", import.meta.url));
const logger = createTestLogger("replay");
const topics = { customer: uniqueName("cust"), purchase: uniqueName("purch"), supportTicket: uniqueName("tick"), survey: uniqueName("surv") };
const groupId = uniqueName("replay-ingest");
let kafka: Kafka;
let service: IngestService;
const teardown: (() => Promise<unknown>)[] = [];

describe("replaying CDNOW master", { timeout: 180_000 }, () => {
  test.beforeAll(async ({ infra, database }) => {
    kafka = createKafka({ brokers: infra.kafka.brokers, clientId: "replay-test", logger });
    const redis = createRedisConnection(infra.redis.url, "replay-test");
    const followUps = createJobQueue({ name: "follow-up", connection: redis, prefix: uniqueName("lt") });
    service = await createIngestService({
      kafka, pool: database.pool, followUps, logger, groupId, inputTopics: Object.values(topics), dlqTopic: uniqueName("dlq"), topicPartitions: 3, rates: { USD: "1" },
    });
    await service.start();
    teardown.push(() => service.stop(), () => followUps.queue.obliterate({ force: true }), () => followUps.close(), async () => redis.disconnect());
  });
  afterAll(async () => {
    for (const step of teardown) await step();
  });

  test("loads all 69,659 purchases of 23,570 customers, and a second replay changes nothing", async ({ database }) => {
    for (const round of [1, 2]) {
      const result = await replayFile({ kafka, path: MASTER, topics });
      expect(result.cdnow).toEqual({ rows: 69_659, customers: 23_570, cents: 250_031_563n }); // PROVENANCE.md: $2,500,315.63
      await waitFor(`ingest to catch up (round ${round})`, async () => ((await consumerLag(kafka, groupId, topics.purchase)) === 0 ? true : undefined), { timeoutMs: 150_000, intervalMs: 250 });
      expect(await cdnowTotalsInPostgres(database.pool), `round ${round}`).toEqual(result.cdnow);
    }
    const metrics = await service.metrics.registry.getSingleMetricAsString("lifecycle_ingest_events_total");
    expect(metrics).toContain('lifecycle_ingest_events_total{outcome="applied",kind=""} 69659');
    expect(metrics).toContain('lifecycle_ingest_events_total{outcome="duplicate",kind=""} 69659');
  });
});
