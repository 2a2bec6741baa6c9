import { Partitioners } from "kafkajs";
import { Queue } from "bullmq";
import { afterAll } from "vitest";
import { createInboxRepo, createJobOutcomeRepo } from "@lifecycle/db";
import { followUpJobId, followUpQueue } from "@lifecycle/events";
import { createKafka } from "@lifecycle/kafka";
import { createFollowUpQueues, createRedisConnection } from "@lifecycle/queue";
import { createTestLogger, describe, expect, test, uniqueName, waitFor } from "@lifecycle/testkit";
import { createIngestService, type IngestService } from "@lifecycle/ingest";
import { createWorkerService, type WorkerService } from "@lifecycle/worker";

// The first thin slice, every hop real: an event produced to Kafka is consumed by the ingest
// service, recorded in Postgres, turned into a BullMQ job, and completed by the worker.
describe("event → Kafka → ingest → Postgres → BullMQ → worker", () => {
  const logger = createTestLogger("slice");
  const topic = uniqueName("purchase-events");
  const dlqTopic = uniqueName("dlq");
  const prefix = uniqueName("lt");
  const customerId = uniqueName("cust");
  let ingest: IngestService;
  let worker: WorkerService;
  let cleanup: (() => Promise<void>)[] = [];

  test.beforeAll(async ({ infra, database }) => {
    const kafka = createKafka({ brokers: infra.kafka.brokers, clientId: "slice-test", logger });
    const queueRedis = createRedisConnection(infra.redis.url, "slice-queue");
    const workerRedis = createRedisConnection(infra.redis.url, "slice-worker");
    const followUps = createFollowUpQueues({ connection: queueRedis, prefix });
    ingest = await createIngestService({
      kafka,
      pool: database.pool,
      followUps,
      logger,
      groupId: uniqueName("ingest"),
      inputTopics: [topic],
      dlqTopic,
      topicPartitions: 2,
      rates: { USD: "1" },
    });
    worker = createWorkerService({ pool: database.pool, connection: workerRedis, prefix, concurrency: 2, logger });
    await ingest.start();
    await worker.start();
    cleanup = [
      () => ingest.stop(),
      () => worker.stop(),
      () => followUps.obliterate(),
      () => followUps.close(),
      async () => void queueRedis.disconnect(),
      async () => void workerRedis.disconnect(),
    ];
  });

  afterAll(async () => {
    for (const step of cleanup) await step();
  });

  test("a purchase travels every hop once, even when sent twice", async ({ infra, database }) => {
    const kafka = createKafka({ brokers: infra.kafka.brokers, clientId: "slice-producer", logger });
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const event = {
      specversion: "1.0",
      id: uniqueName("evt"),
      source: "checkout-service",
      type: "purchase.completed",
      subject: customerId,
      // Now, so the thank-you is neither due in the future nor expired.
      time: new Date().toISOString(),
      data: { orderId: "o-1", amount: "19.99", currency: "USD" },
    };
    const message = { key: customerId, value: JSON.stringify(event) };
    await producer.send({ topic, messages: [message, message] }); // a re-sent event changes nothing
    await producer.disconnect();

    // Hop 1: Kafka → Postgres.
    const inbox = createInboxRepo(database.pool);
    await waitFor("the event in Postgres", async () => ((await inbox.countBySubject(customerId)) > 0 ? true : undefined));
    const { rows } = await database.pool.query<{ event_id: string; data: unknown }>("SELECT event_id, data FROM inbox_events WHERE subject = $1", [customerId]);
    expect(rows).toEqual([{ event_id: event.id, data: event.data }]);

    // Hop 2: Postgres → BullMQ, with the deterministic job id.
    const jobId = followUpJobId({ customerId, playbook: "thank-you", trigger: "first-purchase" });
    const queue = new Queue(followUpQueue("log"), { connection: createRedisConnection(infra.redis.url, "slice-inspect"), prefix });
    try {
      const job = await waitFor("the follow-up job", async () => (await queue.getJob(jobId)) ?? undefined);
      expect(job.data).toMatchObject({ customerId, playbook: "thank-you", causationId: event.id });

      // Hop 3: worker completes it and records the outcome.
      await waitFor("the job to complete", async () => ((await queue.getJobState(jobId)) === "completed" ? true : undefined));
      const outcomes = await createJobOutcomeRepo(database.pool).listForCustomer(customerId);
      expect(outcomes).toEqual([expect.objectContaining({ jobId, status: "sent", attempts: 1 })]);
      // The thank-you ran; the CSAT survey for the order waits its 3 days in Postgres, not in
      // Redis: the relay moves a follow-up into BullMQ only when it is nearly due.
      const counts = await queue.getJobCounts("completed", "waiting", "delayed", "active", "failed");
      expect(counts).toEqual({ completed: 1, waiting: 0, delayed: 0, active: 0, failed: 0 });
      const surveyId = followUpJobId({ customerId, playbook: "csat-survey", trigger: "order-o-1" });
      expect(await queue.getJob(surveyId)).toBeUndefined();
      const survey = await database.pool.query<{ waits_ms: number }>(
        "SELECT extract(epoch FROM due_at - now())::float8 * 1000 AS waits_ms FROM outbox WHERE dedupe_key = $1 AND published_at IS NULL",
        [surveyId],
      );
      expect(survey.rows[0]?.waits_ms).toBeGreaterThan(3 * 86_400_000 - 60_000);
    } finally {
      await queue.close();
    }
  });

  test("a message that is not a CloudEvent goes to the dead-letter topic with its reason", async ({ infra }) => {
    const kafka = createKafka({ brokers: infra.kafka.brokers, clientId: "slice-dlq", logger });
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    await producer.send({ topic, messages: [{ key: customerId, value: "{not json", headers: { origin: "test" } }] });
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: uniqueName("dlq-reader"), maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topic: dlqTopic, fromBeginning: true });
    const seen: { value: string; headers: Record<string, string> }[] = [];
    await consumer.run({
      eachMessage: async ({ message }) => {
        const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]));
        seen.push({ value: message.value?.toString() ?? "", headers });
      },
    });
    try {
      const letter = await waitFor("the dead letter", async () => seen[0]);
      expect(letter.value).toBe("{not json");
      expect(letter.headers.origin).toBe("test");
      expect(letter.headers.dlq_source_topic).toBe(topic);
      expect(JSON.parse(letter.headers.dlq_reason ?? "{}")).toMatchObject({ kind: "not-json" });
    } finally {
      await consumer.disconnect();
    }
  });
});
