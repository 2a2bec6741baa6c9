import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Queue, UnrecoverableError, Worker, type Job } from "bullmq";
import { afterAll, beforeAll, beforeEach } from "vitest";
import { test, expect, describe, uniqueName } from "@lifecycle/testkit";
import { createRedisConnection } from "@lifecycle/queue";
import { PermanentDeliveryError, type Delivery } from "./channel.js";
import { createWebhookChannel, verifyWebhookSignature, type WebhookPayload } from "./webhook.channel.js";
import { sendError } from "./channel.test-support.js";

const secret = "test-secret-0123456789";

interface Received {
  url: string | undefined;
  method: string | undefined;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A real receiver on loopback: records every request and answers with whatever `respond` says. */
async function startReceiver() {
  const received: Received[] = [];
  let respond: (res: ServerResponse, n: number) => void = (res) => res.writeHead(204).end();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push({ url: req.url, method: req.method, headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
      respond(res, received.length);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = addressOf(server.address());
  return {
    url: `http://127.0.0.1:${port}/hooks/lifecycle`,
    received,
    answer(fn: (res: ServerResponse, n: number) => void) {
      respond = fn;
    },
    reset() {
      received.length = 0;
      respond = (res) => res.writeHead(204).end();
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}

function addressOf(address: string | AddressInfo | null): AddressInfo {
  if (address === null || typeof address === "string") throw new Error("server is not listening on TCP");
  return address;
}

function delivery(overrides: Partial<Delivery> = {}): Delivery {
  return {
    id: uniqueName("follow-up"),
    playbook: "thank-you",
    trigger: "first-purchase",
    causationId: "evt-1",
    customer: { id: "c-1", email: "ada@example.com", name: "Ada" },
    subject: "Thank you for your first order",
    text: "Hello Ada, thanks!",
    html: "<p>Hello Ada, thanks!</p>",
    data: { stage: "active", clv: { historical: 120.5 } },
    purpose: "transactional",
    consent: "unknown",
    ...overrides,
  };
}

describe("webhook channel", () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  beforeAll(async () => {
    receiver = await startReceiver();
  });
  beforeEach(() => receiver.reset());
  afterAll(async () => {
    await receiver.close();
  });

  test("POSTs the delivery as signed JSON that the receiver can verify", async () => {
    const sentAt = new Date();
    const channel = createWebhookChannel({ url: receiver.url, secret, timeoutMs: 2_000, now: () => sentAt });
    const d = delivery();
    await expect(channel.send(d)).resolves.toEqual({ detail: "webhook answered 204" });

    expect(receiver.received).toHaveLength(1);
    const [req] = receiver.received;
    if (!req) throw new Error("nothing received");
    expect(req.method).toBe("POST");
    expect(req.url).toBe("/hooks/lifecycle");
    expect(req.headers["content-type"]).toBe("application/json");
    expect(req.headers["user-agent"]).toBe("customer-lifecycle");
    expect(req.headers["x-lifecycle-id"]).toBe(d.id);

    const header = req.headers["x-lifecycle-signature"];
    expect(header).toMatch(new RegExp(`^t=${Math.floor(sentAt.getTime() / 1000)},v1=[0-9a-f]{64}$`));
    expect(verifyWebhookSignature({ header, body: req.body, secret, now: new Date() })).toEqual({ ok: true });
    expect(verifyWebhookSignature({ header, body: req.body.replace("Ada", "Eve"), secret, now: new Date() })).toEqual({ ok: false, reason: "signature mismatch" });
    expect(verifyWebhookSignature({ header, body: req.body, secret: "another-secret-0123456", now: new Date() })).toEqual({ ok: false, reason: "signature mismatch" });
    expect(verifyWebhookSignature({ header, body: req.body, secret, now: new Date(sentAt.getTime() + 10 * 60_000) })).toEqual({ ok: false, reason: "stale timestamp" });

    const expected: WebhookPayload = {
      id: d.id,
      type: "lifecycle.follow-up",
      playbook: "thank-you",
      trigger: "first-purchase",
      causationId: "evt-1",
      customer: { id: "c-1", email: "ada@example.com", name: "Ada" },
      subject: "Thank you for your first order",
      text: "Hello Ada, thanks!",
      html: "<p>Hello Ada, thanks!</p>",
      data: { stage: "active", clv: { historical: 120.5 } },
      purpose: "transactional",
      consent: "unknown",
      sentAt: sentAt.toISOString(),
    };
    const parsed: unknown = JSON.parse(req.body);
    expect(parsed).toEqual(expected);
  });

  test("a 500 is retryable and names the status and the start of the body", async () => {
    receiver.answer((res) => res.writeHead(500, { "content-type": "text/plain" }).end("database down\n" + "x".repeat(10_000)));
    const err = await sendError(createWebhookChannel({ url: receiver.url, secret, timeoutMs: 2_000 }).send(delivery()));
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(PermanentDeliveryError);
    expect(err).toHaveProperty("message", expect.stringMatching(/^webhook answered 500: database down x+$/));
    expect(err instanceof Error ? err.message.length : 0).toBeLessThan(250);
  });

  test("a 429 and a 408 are retryable", async () => {
    const channel = createWebhookChannel({ url: receiver.url, secret, timeoutMs: 2_000 });
    receiver.answer((res) => res.writeHead(429, { "retry-after": "1" }).end());
    const tooMany = await sendError(channel.send(delivery()));
    expect(tooMany).toHaveProperty("message", "webhook answered 429");
    expect(tooMany).not.toBeInstanceOf(PermanentDeliveryError);
    receiver.answer((res) => res.writeHead(408).end());
    expect(await sendError(channel.send(delivery()))).not.toBeInstanceOf(PermanentDeliveryError);
  });

  test("a 400, a 404 and a redirect are permanent", async () => {
    const channel = createWebhookChannel({ url: receiver.url, secret, timeoutMs: 2_000 });
    receiver.answer((res) => res.writeHead(400, { "content-type": "application/json" }).end('{"error":"unknown playbook"}'));
    const bad = await sendError(channel.send(delivery()));
    expect(bad).toBeInstanceOf(PermanentDeliveryError);
    expect(bad).toHaveProperty("message", 'webhook answered 400: {"error":"unknown playbook"}');
    receiver.answer((res) => res.writeHead(404).end());
    expect(await sendError(channel.send(delivery()))).toBeInstanceOf(PermanentDeliveryError);
    expect(receiver.received).toHaveLength(2);
    // The redirect is not followed (it would be answered 204): the receiver sees one request, not two.
    receiver.reset();
    receiver.answer((res, n) => (n === 1 ? res.writeHead(307, { location: "/elsewhere" }).end() : res.writeHead(204).end()));
    const redirected = await sendError(channel.send(delivery()));
    expect(redirected).toBeInstanceOf(PermanentDeliveryError);
    expect(redirected).toHaveProperty("message", "webhook answered 307");
    expect(receiver.received.map((r) => r.url)).toEqual(["/hooks/lifecycle"]);
  });

  test("a receiver that never answers hits the timeout, which is retryable", async () => {
    receiver.answer(() => undefined);
    const started = performance.now();
    const err = await sendError(createWebhookChannel({ url: receiver.url, secret, timeoutMs: 200 }).send(delivery()));
    const elapsed = performance.now() - started;
    expect(err).not.toBeInstanceOf(PermanentDeliveryError);
    expect(err).toHaveProperty("message", "webhook not delivered: no response within 200 ms");
    expect(elapsed).toBeGreaterThanOrEqual(190);
    expect(elapsed).toBeLessThan(2_000);
  });

  test("a refused connection is retryable", async () => {
    const closed = await startReceiver();
    const url = closed.url;
    await closed.close();
    const err = await sendError(createWebhookChannel({ url, secret, timeoutMs: 2_000 }).send(delivery()));
    expect(err).not.toBeInstanceOf(PermanentDeliveryError);
    expect(err).toHaveProperty("message", "webhook not delivered: ECONNREFUSED");
  });

  test("through BullMQ: two 500s, then a 200 on the third attempt, same x-lifecycle-id each time", async ({ infra }) => {
    receiver.answer((res, n) => (n <= 2 ? res.writeHead(500).end("try later") : res.writeHead(200).end("ok")));
    const channel = createWebhookChannel({ url: receiver.url, secret, timeoutMs: 2_000 });
    const prefix = uniqueName("test-webhook");
    const queueName = "follow-ups";
    const queueConnection = createRedisConnection(infra.redis.url, "webhook-test-queue");
    const workerConnection = createRedisConnection(infra.redis.url, "webhook-test-worker");
    const queue = new Queue(queueName, { connection: queueConnection, prefix });
    const attempts: number[] = [];
    const failures: unknown[] = [];
    const worker = new Worker(
      queueName,
      async (job: Job) => {
        attempts.push(job.attemptsMade + 1);
        // As the follow-up handler does: the delivery id is the job id, stable across retries.
        if (job.id === undefined) throw new Error("job without id");
        return channel.send(delivery({ id: job.id }));
      },
      { connection: workerConnection, prefix },
    );
    try {
      const finished = new Promise<{ job: Job; result: unknown }>((resolve, reject) => {
        worker.on("completed", (job, result) => resolve({ job, result }));
        worker.on("failed", (job, err) => {
          failures.push(err);
          // Stop waiting as soon as BullMQ will not try again, rather than at the test timeout.
          if (!job || job.attemptsMade >= (job.opts.attempts ?? 1) || err instanceof UnrecoverableError) reject(err);
        });
      });
      await worker.waitUntilReady();
      // Shaped like followUpJobId() in @lifecycle/events.
      const jobId = uniqueName("fu|thank-you|c-1|first-purchase");
      await queue.add("follow-up", { customerId: "c-1" }, { jobId, attempts: 3, backoff: { type: "fixed", delay: 100 } });

      const { job, result } = await finished;
      expect(result).toEqual({ detail: "webhook answered 200" });
      expect(job.id).toBe(jobId);
      expect(attempts).toEqual([1, 2, 3]);
      expect(failures).toHaveLength(2);
      for (const err of failures) {
        expect(err).not.toBeInstanceOf(PermanentDeliveryError);
        expect(err).toHaveProperty("message", "webhook answered 500: try later");
      }
      expect(await queue.getJobState(jobId)).toBe("completed");
      expect(receiver.received.map((r) => r.headers["x-lifecycle-id"])).toEqual([jobId, jobId, jobId]);
      // Each attempt is signed afresh, and every one verifies.
      for (const r of receiver.received) {
        expect(verifyWebhookSignature({ header: r.headers["x-lifecycle-signature"], body: r.body, secret, now: new Date() })).toEqual({ ok: true });
      }
    } finally {
      await worker.close();
      await queue.obliterate({ force: true });
      await queue.close();
      queueConnection.disconnect();
      workerConnection.disconnect();
    }
  });

  test("through BullMQ: a 400 fails the job on its first attempt", async ({ infra }) => {
    receiver.answer((res) => res.writeHead(400).end());
    const channel = createWebhookChannel({ url: receiver.url, secret, timeoutMs: 2_000 });
    const prefix = uniqueName("test-webhook");
    const queueConnection = createRedisConnection(infra.redis.url, "webhook-test-queue");
    const workerConnection = createRedisConnection(infra.redis.url, "webhook-test-worker");
    const queue = new Queue("follow-ups", { connection: queueConnection, prefix });
    const worker = new Worker(
      "follow-ups",
      async (job: Job) => {
        if (job.id === undefined) throw new Error("job without id");
        return channel.send(delivery({ id: job.id }));
      },
      { connection: workerConnection, prefix },
    );
    try {
      const failed = new Promise<{ job: Job | undefined; err: Error }>((resolve) => worker.on("failed", (job, err) => resolve({ job, err })));
      await worker.waitUntilReady();
      const jobId = uniqueName("follow-up");
      await queue.add("follow-up", {}, { jobId, attempts: 3, backoff: { type: "fixed", delay: 100 } });
      const { job, err } = await failed;
      expect(err).toBeInstanceOf(PermanentDeliveryError);
      expect(job?.attemptsMade).toBe(1);
      expect(await queue.getJobState(jobId)).toBe("failed");
      expect(receiver.received).toHaveLength(1);
    } finally {
      await worker.close();
      await queue.obliterate({ force: true });
      await queue.close();
      queueConnection.disconnect();
      workerConnection.disconnect();
    }
  });
});
