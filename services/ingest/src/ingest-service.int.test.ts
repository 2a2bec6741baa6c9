import { afterAll } from "vitest";
import type { Kafka } from "kafkajs";
import { createKafka } from "@lifecycle/kafka";
import { createFollowUpQueues, createRedisConnection } from "@lifecycle/queue";
import { consumerLag, createTestLogger, describe, expect, produceEvents, readTopic, test, uniqueName, waitFor } from "@lifecycle/testkit";
import { createIngestService, type IngestService } from "./ingest-service.js";

const logger = createTestLogger("ingest-int");
const topic = uniqueName("in");
const dlqTopic = uniqueName("dlq");
const groupId = uniqueName("ingest");
const customer = uniqueName("c");
let kafka: Kafka;
let service: IngestService;
const teardown: (() => Promise<unknown>)[] = [];

const good = (id: string, data: object = { orderId: id, amount: "10.00", currency: "USD" }) =>
  JSON.stringify({ specversion: "1.0", id, source: "t", type: "purchase.completed", subject: customer, time: "2026-05-01T10:00:00Z", data });
const ev = (patch: object) => JSON.stringify({ specversion: "1.0", id: uniqueName("bad"), source: "t", subject: customer, time: "2026-05-01T10:00:00Z", ...patch });

// Every kind of bad input, each between good events: what the decoder refuses, then what only
// Postgres refuses (a CHECK constraint this test adds to its own database).
const BAD: { kind: string; paths: string[]; value: string | null; sqlState?: string }[] = [
  { kind: "empty", paths: [], value: null },
  { kind: "not-json", paths: [], value: "{oops" },
  { kind: "invalid-envelope", paths: ["specversion"], value: ev({ specversion: "0.3", type: "ticket.reopened", data: { ticketId: "t" } }) },
  { kind: "invalid-time", paths: ["time"], value: ev({ time: "2026-05-01T10:00:00", type: "ticket.reopened", data: { ticketId: "t" } }) },
  { kind: "unknown-type", paths: ["type"], value: ev({ type: "order.shipped", data: {} }) },
  { kind: "invalid-data", paths: ["data.orderId"], value: ev({ type: "purchase.completed", data: { amount: "1", currency: "USD" } }) },
  { kind: "out-of-range", paths: ["data.score"], value: ev({ type: "survey.responded", data: { kind: "nps", score: 11 } }) },
  { kind: "unsupported-currency", paths: ["data.currency"], value: ev({ type: "purchase.completed", data: { orderId: "x", amount: "1", currency: "JPY" } }) },
  // What Postgres would refuse, or store as nonsense, refused at the door (issue 9).
  { kind: "invalid-time", paths: ["time"], value: ev({ time: "2025-02-30T10:00:00Z", type: "ticket.reopened", data: { ticketId: "t" } }) },
  { kind: "invalid-time", paths: ["time"], value: ev({ time: "0000-01-01T00:00:00Z", type: "ticket.reopened", data: { ticketId: "t" } }) },
  { kind: "time-in-future", paths: ["time"], value: ev({ time: "9999-12-31T23:59:59Z", type: "ticket.reopened", data: { ticketId: "t" } }) },
  { kind: "invalid-text", paths: ["data.channel"], value: ev({ type: "purchase.completed", data: { orderId: "nul", amount: "1", currency: "USD", channel: "web\u0000" } }) },
  { kind: "invalid-text", paths: ["data.ticketId"], value: ev({ type: "ticket.reopened", data: { ticketId: "t\uD800" } }) },
  { kind: "invalid-data", paths: ["data.amount"], value: ev({ type: "purchase.completed", data: { orderId: "big", amount: "1234567890123.5", currency: "USD" } }) },
  // Valid to the decoder, refused by Postgres: isolated from its batch and dead-lettered with the SQLSTATE.
  { kind: "db-rejected", paths: [], sqlState: "23514", value: ev({ type: "purchase.completed", data: { orderId: "poison-order", amount: "1", currency: "USD" } }) },
];

describe("the ingest service on a real broker", () => {
  test.beforeAll(async ({ infra, database }) => {
    await database.pool.query("ALTER TABLE orders ADD CONSTRAINT test_refuses_poison CHECK (order_id <> 'poison-order')");
    kafka = createKafka({ brokers: infra.kafka.brokers, clientId: "ingest-int", logger });
    const redis = createRedisConnection(infra.redis.url, "ingest-int");
    const prefix = uniqueName("lt");
    const followUps = createFollowUpQueues({ connection: redis, prefix });
    service = await createIngestService({ kafka, pool: database.pool, followUps, logger, groupId, inputTopics: [topic], dlqTopic, topicPartitions: 1, rates: { USD: "1" } });
    await service.start();
    teardown.push(() => service.stop(), () => followUps.obliterate(), () => followUps.close(), async () => redis.disconnect());
  });
  afterAll(async () => {
    for (const step of teardown) await step();
  });

  test("dead-letters every kind of bad input with its reason, poison Postgres refuses included, and applies the good events around it", async ({ database }) => {
    const messages: { key: string; value: string | null }[] = [{ key: customer, value: good("g-0") }];
    BAD.forEach((b, i) => messages.push({ key: customer, value: b.value }, { key: customer, value: good(`g-${i + 1}`) }));
    await produceEvents(kafka, topic, messages.map((m, i) => ({ ...m, headers: { n: String(i) } })));

    await waitFor("the consumer to catch up", async () => ((await consumerLag(kafka, groupId, topic)) === 0 ? true : undefined));
    const { rows } = await database.pool.query<{ purchase_count: number; revenue: string }>("SELECT purchase_count, revenue FROM customers WHERE customer_id = $1", [customer]);
    expect(rows).toEqual([{ purchase_count: BAD.length + 1, revenue: `${(BAD.length + 1) * 10}.0000` }]);

    const letters = await readTopic(kafka, dlqTopic, BAD.length);
    expect(letters).toHaveLength(BAD.length);
    letters.forEach((letter, i) => {
      const bad = BAD[i];
      const reason: unknown = JSON.parse(letter.headers.dlq_reason ?? "{}");
      expect(reason).toMatchObject({ kind: bad?.kind, paths: bad?.paths, ...(bad?.sqlState ? { sqlState: bad.sqlState } : {}) });
      expect(letter.value?.toString() ?? null).toBe(bad?.value === null ? null : bad?.value);
      expect(letter.key).toBe(customer);
      expect(letter.headers).toMatchObject({ n: String(2 * i + 1), dlq_source_topic: topic, dlq_source_partition: "0", dlq_source_offset: String(2 * i + 1) });
    });

    const metrics = await service.metrics.registry.getSingleMetricAsString("lifecycle_ingest_events_total");
    const perKind = new Map<string, number>();
    for (const b of BAD) perKind.set(b.kind, (perKind.get(b.kind) ?? 0) + 1);
    for (const [kind, n] of perKind) expect(metrics).toContain(`lifecycle_ingest_events_total{outcome="dead_lettered",kind="${kind}"} ${n}`);
    expect(metrics).toContain(`lifecycle_ingest_events_total{outcome="applied",kind=""} ${BAD.length + 1}`);
  });
});
