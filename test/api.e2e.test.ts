import type { FastifyInstance } from "fastify";
import { Partitioners, type Kafka, type Producer } from "kafkajs";
import { Registry } from "prom-client";
import { afterAll } from "vitest";
import { z } from "zod";
import { createApiKeyRepo } from "@lifecycle/db";
import { EngineSettings } from "@lifecycle/domain";
import { createEventPublisher, createKafka } from "@lifecycle/kafka";
import { createFollowUpQueues, createRedisConnection, type FollowUpQueues } from "@lifecycle/queue";
import { createTestLogger, describe, expect, produceEvents, test, uniqueName, waitFor } from "@lifecycle/testkit";
import { buildApp } from "@lifecycle/api";
import { openEventStream } from "@lifecycle/api/test-support/alerts-sse";
import { startStageChangeFeed } from "@lifecycle/api/stage-change-feed";
import { createIngestService, type IngestService } from "@lifecycle/ingest";

// The API on the live pipeline: events produced to Kafka (and one posted to POST /v1/events)
// are consumed by the real ingest service, recorded in Postgres, and published through the
// outbox relay to a stage-changed topic; the API reads the customer back from Postgres and
// streams the at-risk change it hears on that topic through its Kafka-fed feed.
describe("Kafka → ingest → Postgres → outbox → Kafka → API (REST and SSE)", () => {
  const logger = createTestLogger("api-e2e");
  const topics = { customer: uniqueName("e2e-cust"), purchase: uniqueName("e2e-purch"), supportTicket: uniqueName("e2e-tick"), survey: uniqueName("e2e-surv") };
  const stageChangedTopic = uniqueName("e2e-stage-changed");
  const customerId = uniqueName("cust");
  let kafka: Kafka;
  let ingest: IngestService;
  let app: FastifyInstance;
  let base: string;
  let key: string;
  let followUps: FollowUpQueues;
  let cleanup: (() => Promise<unknown>)[] = [];

  test.beforeAll(async ({ infra, database }) => {
    kafka = createKafka({ brokers: infra.kafka.brokers, clientId: uniqueName("api-e2e"), logger });
    const redis = createRedisConnection(infra.redis.url, "api-e2e");
    followUps = createFollowUpQueues({ connection: redis, prefix: uniqueName("api-e2e") });
    ingest = await createIngestService({
      kafka,
      pool: database.pool,
      followUps,
      logger,
      groupId: uniqueName("ingest"),
      inputTopics: Object.values(topics),
      dlqTopic: uniqueName("e2e-dlq"),
      stageChangedTopic,
      topicPartitions: 1,
      rates: { USD: "1" },
    });
    await ingest.start();
    const feed = await startStageChangeFeed({ kafka, topic: stageChangedTopic, logger });
    const producer: Producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
    await producer.connect();
    const keys = createApiKeyRepo(database.pool);
    key = (await keys.create({ name: "e2e", scopes: ["read", "ingest"] })).key;
    app = await buildApp({
      pool: database.pool,
      keys,
      settings: EngineSettings.parse({}),
      rates: { USD: "1" },
      publishEvents: createEventPublisher({ producer, topics }),
      stageChanges: feed,
      queues: [],
      readiness: [],
      registry: new Registry(),
      rateLimitPerMinute: 10_000,
      bodyLimitBytes: 1_048_576,
    });
    base = await app.listen({ port: 0, host: "127.0.0.1" });
    cleanup = [
      () => app.close(),
      () => feed.stop(),
      () => producer.disconnect(),
      () => ingest.stop(),
      () => followUps.obliterate(),
      () => followUps.close(),
      async () => redis.disconnect(),
    ];
  });

  afterAll(async () => {
    for (const step of cleanup) await step();
  });

  const get = async (path: string): Promise<{ status: number; body: unknown }> => {
    const r = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${key}` } });
    const body: unknown = await r.json();
    return { status: r.status, body };
  };

  test("purchases then an NPS detractor score: the customer is at risk in the API and on the alert stream within seconds", async () => {
    const stream = await openEventStream(`${base}/v1/alerts/stream`, { authorization: `Bearer ${key}` });
    try {
      expect(stream.response.status).toBe(200);

      // Two purchases straight to Kafka, as a checkout service produces them.
      const now = Date.now();
      const purchase = (n: number, amount: string, minutesAgo: number) => ({
        specversion: "1.0",
        id: uniqueName(`purchase-${n}`),
        source: "checkout-service",
        type: "purchase.completed",
        subject: customerId,
        time: new Date(now - minutesAgo * 60_000).toISOString(),
        data: { orderId: `o-${n}`, amount, currency: "USD" },
      });
      const purchases = [purchase(1, "19.99", 60), purchase(2, "39.99", 30)];
      await produceEvents(kafka, topics.purchase, purchases.map((e) => ({ key: customerId, value: JSON.stringify(e) })));
      const repeat = await waitFor("the customer to be a repeat buyer in the API", async () => {
        const r = await get(`/v1/customers/${encodeURIComponent(customerId)}`);
        const c = CustomerView.safeParse(r.body);
        return r.status === 200 && c.success && c.data.stage === "repeat" ? c.data : undefined;
      });
      expect(repeat).toMatchObject({ id: customerId, purchaseCount: 2 });
      expect(Number(repeat.clv.historical)).toBeCloseTo(59.98, 2);
      // Nothing alerted yet: "new" and "repeat" are not alerts.
      expect(stream.alerts()).toEqual([]);

      // An NPS detractor score, through the API's own ingestion (which produces it to Kafka).
      const detractor = {
        specversion: "1.0",
        id: uniqueName("nps"),
        source: "survey-tool",
        type: "survey.responded",
        subject: customerId,
        time: new Date(now - 60_000).toISOString(),
        data: { kind: "nps", score: 3 },
      };
      const sentAt = Date.now();
      const posted = await fetch(`${base}/v1/events`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify([detractor]) });
      expect(posted.status).toBe(202);
      expect(await posted.json()).toEqual({ accepted: 1, rejected: 0, results: [{ index: 0, id: detractor.id, status: "accepted" }] });

      const alert = await waitFor("the at-risk alert on the stream", async () => stream.alerts()[0], { timeoutMs: 15_000 });
      const latencyMs = Date.now() - sentAt;
      expect(alert.event).toBe("at-risk");
      expect(JSON.parse(alert.data ?? "null")).toMatchObject({ id: customerId, from: "repeat", reason: "detractor-score", clv: { historical: "59.98" } });
      expect(latencyMs).toBeLessThan(10_000);

      const atRisk = CustomerView.parse((await get(`/v1/customers/${encodeURIComponent(customerId)}`)).body);
      expect(atRisk).toMatchObject({ stage: "at-risk", stageReason: "detractor-score" });
      const list = AtRiskList.parse((await get("/v1/alerts/at-risk")).body);
      const item = list.items.find((i) => i.id === customerId);
      expect(item).toMatchObject({ reason: "detractor-score", basis: "historical", historicalClv: "59.98", predictedClv: null });
      expect(Number(item?.valueAtStake)).toBeGreaterThan(0);
    } finally {
      await stream.close();
    }
  });
});

const CustomerView = z
  .object({ id: z.string(), stage: z.string().nullable(), stageReason: z.string().nullable(), purchaseCount: z.number(), clv: z.object({ historical: z.string() }).loose() })
  .loose();
const AtRiskList = z.object({
  items: z.array(
    z.object({ id: z.string(), reason: z.string().nullable(), basis: z.string(), valueAtStake: z.string(), historicalClv: z.string(), predictedClv: z.string().nullable() }).loose(),
  ),
});
