import { randomBytes } from "node:crypto";
import { createServer, type IncomingHttpHeaders } from "node:http";
import { fileURLToPath } from "node:url";
import { LifecycleEvent, StageChanged } from "@lifecycle/events";
import { createKafka, ensureTopics } from "@lifecycle/kafka";
import { createTestLogger, describe, expect, produceEvents, readTopic, removeRedisKeys, startService, test, uniqueName, waitFor, type ServiceProcess } from "@lifecycle/testkit";
import { startOtlpCollector, type CollectedSpan } from "./support/otlp-collector.js";

// Issue 10's tracing done-when: one event's spans form one trace across the ingest and worker
// processes. A producer's traceparent rides in the CloudEvent; ingest continues it per event and
// into the outbox; the relay's send span goes with the job; the worker's job and webhook spans
// follow, and the webhook receiver gets a traceparent of that same trace.
const INGEST_MAIN = fileURLToPath(new URL("../services/ingest/src/main.ts", import.meta.url));
const WORKER_MAIN = fileURLToPath(new URL("../services/worker/src/main.ts", import.meta.url));
const logger = createTestLogger("tracing");
const KIND = { server: 2, client: 3, producer: 4, consumer: 5 } as const;

/** A loopback webhook receiver: the headers and body of every POST. */
async function startWebhookReceiver() {
  const received: { headers: IncomingHttpHeaders; body: string }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return { url: `http://127.0.0.1:${port}/hooks/lifecycle`, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe("tracing across ingest and worker", { timeout: 90_000 }, () => {
  const queuePrefix = uniqueName("tr-q");
  // The relay's follow-up job and the worker's maintenance queue, after both processes stopped.
  test.afterAll(async ({ infra }) => {
    await removeRedisKeys(infra.redis.url, queuePrefix);
  });

  test("one purchase's spans form one trace: produce → ingest process → transaction → relay send → worker job → webhook", async ({ infra, database }) => {
    const collector = await startOtlpCollector();
    const webhook = await startWebhookReceiver();
    const topic = uniqueName("tr-purchases");
    const stageTopic = uniqueName("tr-stages");
    const kafka = createKafka({ brokers: infra.kafka.brokers, clientId: "tracing-test", logger });
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, [{ topic, numPartitions: 1 }]);
    await admin.disconnect();

    // Whatever OTEL_* the runner has set must not reach the services: this test is their collector.
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("OTEL_")));
    const env = {
      ...inherited,
      DATABASE_URL: database.url,
      KAFKA_BROKERS: infra.kafka.brokers.join(","),
      REDIS_URL: infra.redis.url,
      QUEUE_PREFIX: queuePrefix,
      INPUT_TOPICS: topic,
      DLQ_TOPIC: uniqueName("tr-dlq"),
      STAGE_CHANGED_TOPIC: stageTopic,
      INGEST_GROUP_ID: uniqueName("tr-group"),
      TOPIC_PARTITIONS: "1",
      PROBE_PORT: "-1",
      LOG_LEVEL: "info",
      // The thank-you for a first purchase goes out at once, by webhook, whatever the hour.
      PLAYBOOKS: JSON.stringify({ "thank-you": { channel: "webhook" } }),
      QUIET_HOURS: "00:00-00:00",
      WEBHOOK_URL: webhook.url,
      WEBHOOK_SECRET: "tracing-test-secret",
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      // Export within a fraction of a second instead of the default 5 s.
      OTEL_BSP_SCHEDULE_DELAY: "100",
    };
    const logDir = fileURLToPath(new URL(`../.run/test-logs/${env.INGEST_GROUP_ID}`, import.meta.url));
    const services: ServiceProcess[] = [];
    try {
      // Both starts settle before either can fail the test: a service that did start is stopped below.
      const started = await Promise.allSettled([
        startService({ name: "ingest", entry: INGEST_MAIN, env, logDir, readyMessage: "ingest running" }),
        startService({ name: "worker", entry: WORKER_MAIN, env, logDir, readyMessage: "worker running" }),
      ]);
      for (const s of started) if (s.status === "fulfilled") services.push(s.value);
      for (const s of started) if (s.status === "rejected") throw s.reason;

      // The producer's span: a trace the test made up, as an instrumented checkout service would send.
      const traceId = randomBytes(16).toString("hex");
      const producerSpanId = randomBytes(8).toString("hex");
      const customer = uniqueName("tr-cust");
      const purchase = LifecycleEvent.parse({
        specversion: "1.0",
        id: uniqueName("tr-evt"),
        source: "checkout",
        type: "purchase.completed",
        subject: customer,
        time: new Date().toISOString(),
        data: { orderId: "o-1", amount: "42.00", currency: "USD" },
        traceparent: `00-${traceId}-${producerSpanId}-01`,
      });
      await produceEvents(kafka, topic, [{ key: customer, value: JSON.stringify(purchase) }]);

      const delivered = await waitFor("the thank-you webhook", async () => webhook.received.find((r) => r.body.includes(customer)), { timeoutMs: 45_000 });
      const inTrace = () => collector.spans.filter((s) => s.traceId === traceId);
      const one = (name: string) => {
        const found = inTrace().filter((s) => s.name === name);
        return found.length === 1 ? found[0] : undefined;
      };
      // The worker ends its webhook span after the answer; the batch processor exports it soon after.
      const webhookSpan = await waitFor("the webhook span to be exported", async () => one("POST webhook"), { timeoutMs: 15_000 });

      const process = one(`process ${topic}`);
      const transaction = one("apply events");
      const sendJob = one("send follow-ups-webhook");
      const sendStage = one("send stage-changed");
      const job = one("process follow-ups-webhook");
      const describeTrace = () => inTrace().map((s) => `${s.service} ${s.name} ${s.spanId} <- ${s.parentSpanId}`).join("\n");
      expect({ process, transaction, sendJob, sendStage, job }, describeTrace()).toEqual({
        process: expect.objectContaining({ service: "ingest", kind: KIND.consumer, parentSpanId: producerSpanId }),
        transaction: expect.objectContaining({ service: "ingest", parentSpanId: process?.spanId }),
        // The relay runs in both processes: either may have published the outbox rows.
        sendJob: expect.objectContaining({ kind: KIND.producer, parentSpanId: process?.spanId }),
        sendStage: expect.objectContaining({ kind: KIND.producer, parentSpanId: process?.spanId }),
        job: expect.objectContaining({ service: "worker", kind: KIND.consumer, parentSpanId: sendJob?.spanId }),
      });
      expect(webhookSpan).toMatchObject({ service: "worker", kind: KIND.client, parentSpanId: job?.spanId });
      expect(new Set(inTrace().map((s: CollectedSpan) => s.service))).toEqual(new Set(["ingest", "worker"]));
      // The receiver can continue the trace: the header names the webhook span.
      expect(delivered.headers.traceparent).toBe(`00-${traceId}-${webhookSpan.spanId}-01`);

      // The stage change on its topic carries the relay's send span too, for consumers that trace.
      const [message] = await readTopic(kafka, stageTopic, 1);
      expect(StageChanged.parse(JSON.parse(message?.value?.toString() ?? "null")).traceparent).toBe(`00-${traceId}-${sendStage?.spanId}-01`);
      expect(collector.refused).toEqual([]);
    } finally {
      await Promise.all(services.map((s) => s.stop()));
      await webhook.close();
      await collector.close();
    }
  });
});
