import { fileURLToPath } from "node:url";
import { afterAll } from "vitest";
import type { Kafka } from "kafkajs";
import { createOutboxRepo } from "@lifecycle/db";
import { EngineSettings } from "@lifecycle/domain";
import { createClock, createModelCache, createModelsRepo, refitModels, sweepDueCustomers } from "@lifecycle/engine";
import { createKafka } from "@lifecycle/kafka";
import { createFollowUpQueues, createRedisConnection } from "@lifecycle/queue";
import { consumerLag, createTestLogger, describe, expect, test, uniqueName, waitFor } from "@lifecycle/testkit";
import { cdnowTotalsInPostgres } from "../scripts/lib/cdnow-totals.js";
import { replayFile } from "../scripts/lib/replay.js";
import { createIngestService, type IngestService } from "@lifecycle/ingest";

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
    const followUps = createFollowUpQueues({ connection: redis, prefix: uniqueName("lt") });
    service = await createIngestService({
      kafka, pool: database.pool, followUps, logger, groupId, inputTopics: Object.values(topics), dlqTopic: uniqueName("dlq"), topicPartitions: 3, rates: { USD: "1" },
      // History: "now" is the latest event time seen, not today (everyone would have churned by 2026).
      clock: "watermark", stageChangedTopic: uniqueName("stages"),
    });
    await service.start();
    teardown.push(() => service.stop(), () => followUps.obliterate(), () => followUps.close(), async () => redis.disconnect());
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

  test("with the watermark clock, the refit and the sweep give every customer a stage and a prediction as of 1998-06-30", async ({ database }) => {
    const pool = database.pool;
    const clock = createClock({ mode: "watermark" });
    const repo = createModelsRepo(pool);
    const cache = createModelCache({ repo, ttlMs: 0 });
    const deps = { pool, outbox: createOutboxRepo(pool), clock, repo, cache, models: cache, settings: EngineSettings.parse({}) };
    const fit = await refitModels(deps);
    if (!fit.fitted) throw new Error(fit.why);
    expect(fit.now).toEqual(new Date("1998-06-30T00:00:00Z"));
    expect(fit.sampleSize).toBe(23_570);
    expect(fit.reevaluated).toBe(23_570);
    await sweepDueCustomers(deps);
    console.log(`[replay] refit over ${fit.sampleSize} customers (${fit.selection.choice.why}): fit ${(fit.fitMs / 1000).toFixed(2)} s, re-evaluation ${(fit.reevaluateMs / 1000).toFixed(2)} s`);

    const stages = await pool.query<{ stage: string; n: number }>("SELECT stage, count(*)::int AS n FROM customers GROUP BY stage ORDER BY stage");
    const byStage = Object.fromEntries(stages.rows.map((r) => [r.stage, r.n]));
    console.log(`[replay] stages at 1998-06-30: ${JSON.stringify(byStage)}`);
    // Everyone bought, so nobody is a prospect; the sum is the whole cohort.
    expect(Object.values(byStage).reduce((a, n) => a + n, 0)).toBe(23_570);
    expect(byStage.prospect).toBeUndefined();
    // Each customer's stage agrees with its facts at the watermark, checked here in SQL: churned
    // exactly when the last purchase is 180 days or more before it.
    const wrong = await pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM customers
        WHERE (stage = 'churned') <> (last_purchase_at <= timestamptz '1998-06-30' - interval '180 days')`,
    );
    expect(wrong.rows[0]?.n).toBe(0);
    const missing = await pool.query<{ n: number }>("SELECT count(*)::int AS n FROM customers WHERE p_alive IS NULL OR predicted_clv IS NULL OR health_score IS NULL");
    expect(missing.rows[0]?.n).toBe(0);
  });
});
