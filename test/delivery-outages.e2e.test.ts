import { createServer, type Server } from "node:http";
import { z } from "zod";
import { EngineSettings } from "@lifecycle/domain";
import { followUpJobParts, LifecycleEvent } from "@lifecycle/events";
import { reconcileMarkerKey } from "@lifecycle/pipeline";
import { checkRedisDurability, createRedisConnection } from "@lifecycle/queue";
import type { Pool } from "@lifecycle/db";
import type { Channel, Delivery } from "@lifecycle/worker/channels";
import { createWebhookChannel } from "@lifecycle/worker/channels/webhook";
import { createTestLogger, describe, expect, test, uniqueName, waitFor } from "@lifecycle/testkit";
import { createFollowUpPipeline } from "./support/follow-up-pipeline.js";
import { startPrivateRedis } from "@lifecycle/testkit/tools";

// Delivery that survives outages (issue 11, point 3), every part real: Postgres, the outbox relay,
// BullMQ on Redis, the worker, a webhook receiver on loopback.
const logger = createTestLogger("delivery-outages");
const SECOND = 1 / 60; // in minutes

function purchases(run: string, customers: number, from: number) {
  return Array.from({ length: customers }, (_, i) =>
    LifecycleEvent.parse({
      specversion: "1.0",
      id: `${run}-p${from + i}`,
      source: "test",
      subject: `${run}-c${from + i}`,
      time: new Date().toISOString(),
      type: "purchase.completed",
      data: { orderId: `o${from + i}`, amount: "20", currency: "USD" },
    }),
  );
}

async function outcomesOf(pool: Pool, run: string, playbooks: readonly string[]) {
  const r = await pool.query<{ job_id: string; status: string; attempts: number; detail: string | null }>("SELECT job_id, status, attempts, detail FROM job_outcomes WHERE customer_id LIKE $1", [`${run}-%`]);
  return r.rows.filter((o) => playbooks.includes(followUpJobParts(o.job_id)?.playbook ?? ""));
}

const metric = async (registry: { getSingleMetricAsString(name: string): Promise<string> }, name: string) =>
  (await registry.getSingleMetricAsString(name))
    .split("\n")
    .filter((l) => !l.startsWith("#") && l.trim())
    .reduce((sum, l) => sum + Number(l.split(" ").at(-1)), 0);

/** A webhook receiver that can be down in two ways: hanging up on every request, or answering 503. */
async function startReceiver() {
  let mode: "hang-up" | "503" | "up" = "up";
  const delivered = new Map<string, number>();
  let refused = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (mode === "hang-up") {
        refused++;
        req.socket.destroy();
        return;
      }
      if (mode === "503") {
        refused++;
        res.writeHead(503).end("maintenance");
        return;
      }
      const { id } = z.object({ id: z.string() }).parse(JSON.parse(Buffer.concat(chunks).toString("utf8")));
      delivered.set(id, (delivered.get(id) ?? 0) + 1);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("the receiver has no TCP address");
  return {
    url: `http://127.0.0.1:${address.port}/hook`,
    delivered,
    refused: () => refused,
    set: (m: typeof mode) => void (mode = m),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe("delivery that survives outages", () => {
  test("a 2-minute webhook outage during a run: every due follow-up is delivered after it, once, and the open circuit spares the attempts", { timeout: 240_000 }, async ({ infra, database }) => {
    const OUTAGE_MS = 120_000;
    const run = uniqueName("wo");
    const receiver = await startReceiver();
    const settings = EngineSettings.parse({ playbooks: { "thank-you": { channel: "webhook", delayMinutes: 0 } } });
    const pipeline = createFollowUpPipeline({
      pool: database.pool,
      redisUrl: infra.redis.url,
      prefix: uniqueName("woq"),
      settings,
      logger,
      channels: { webhook: createWebhookChannel({ url: receiver.url, secret: "an-outage-test-secret", timeoutMs: 2_000 }) },
      // Shorter than production (10 s doubling to 1 h; pauses up to 5 min) so the test ends soon after the outage.
      retry: { baseMs: 2_000, maxMs: 15_000 },
      circuit: { threshold: 3, openMs: 2_000, maxOpenMs: 20_000 },
    });
    await pipeline.start();
    try {
      const started = Date.now();
      receiver.set("hang-up");
      // Follow-ups fall due all through the outage: at its start, a third in and two thirds in
      // (hanging up for the first half, 503 for the second), and once more after it.
      await pipeline.apply(purchases(run, 10, 0));
      await new Promise((r) => setTimeout(r, OUTAGE_MS / 3));
      await pipeline.apply(purchases(run, 10, 10));
      await new Promise((r) => setTimeout(r, OUTAGE_MS / 2 - (Date.now() - started)));
      receiver.set("503");
      await new Promise((r) => setTimeout(r, (2 * OUTAGE_MS) / 3 - (Date.now() - started)));
      await pipeline.apply(purchases(run, 10, 20));
      await new Promise((r) => setTimeout(r, OUTAGE_MS - (Date.now() - started)));
      expect(receiver.delivered.size).toBe(0);
      receiver.set("up");
      await pipeline.apply(purchases(run, 10, 30));

      await waitFor("every thank-you to be sent", async () => ((await outcomesOf(database.pool, run, ["thank-you"])).filter((o) => o.status === "sent").length === 40 ? true : undefined), { timeoutMs: 90_000, intervalMs: 500 });
      const outcomes = await outcomesOf(database.pool, run, ["thank-you"]);
      expect(outcomes.map((o) => o.status)).toEqual(Array(40).fill("sent"));
      // Once each: 40 ids, each delivered exactly once.
      expect(receiver.delivered.size).toBe(40);
      expect([...receiver.delivered.values()].every((n) => n === 1)).toBe(true);
      // The circuit opened and the jobs waited instead of burning their attempts: without it every
      // job would fail an attempt each time its backoff ran out (dozens of failures per job over 2 minutes).
      expect(await metric(pipeline.metrics.registry, "lifecycle_channel_circuit_opened_total")).toBeGreaterThanOrEqual(1);
      const failedAttempts = outcomes.reduce((n, o) => n + o.attempts - 1, 0);
      logger.info({ failedAttempts, refused: receiver.refused(), maxAttempts: Math.max(...outcomes.map((o) => o.attempts)) }, "outage summary");
      expect(failedAttempts).toBeLessThanOrEqual(30);
      expect(receiver.refused()).toBe(failedAttempts);
      expect(await metric(pipeline.metrics.registry, "lifecycle_follow_ups_retries_exhausted_total")).toBe(0);
    } finally {
      await pipeline.stop().catch(() => undefined);
      await receiver.close();
    }
  });

  test("Redis flushed mid-run: the reconciliation re-adds every due job from the outbox, and nothing is sent twice", { timeout: 60_000 }, async ({ database }) => {
    const redis = await startPrivateRedis({ persistence: false });
    const run = uniqueName("rl");
    const prefix = uniqueName("rlq");
    const probe = createRedisConnection(redis.url, "rl-probe");
    // A channel slow enough that deliveries are in flight when the data goes.
    const deliveries: Delivery[] = [];
    const slow: Channel = {
      name: "log",
      async send(d) {
        await new Promise((r) => setTimeout(r, 50));
        deliveries.push(d);
        return { detail: "recorded" };
      },
    };
    // Thank-you at once, the survey 4 s later: at the flush some are sent, some in flight, some waiting in BullMQ.
    const settings = EngineSettings.parse({ playbooks: { "thank-you": { delayMinutes: 0 }, "csat-survey": { delayMinutes: 4 * SECOND } } });
    const pipeline = createFollowUpPipeline({ pool: database.pool, redisUrl: redis.url, prefix, settings, logger, channels: { log: slow }, reconcile: { everyMs: 300, settleMs: 1_500 } });
    try {
      await pipeline.start();
      await waitFor("the first reconciliation's marker", async () => ((await probe.exists(reconcileMarkerKey(prefix))) === 1 ? true : undefined), { timeoutMs: 10_000 });
      await pipeline.apply(purchases(run, 40, 0));
      await waitFor("some thank-yous sent", async () => (deliveries.length >= 5 ? true : undefined), { timeoutMs: 15_000, intervalMs: 20 });
      const sentBefore = deliveries.length;
      redis.flush();
      await waitFor("all 80 follow-ups to finish", async () => ((await outcomesOf(database.pool, run, ["thank-you", "csat-survey"])).length === 80 ? true : undefined), { timeoutMs: 40_000, intervalMs: 300 });
      const outcomes = await outcomesOf(database.pool, run, ["thank-you", "csat-survey"]);
      expect(outcomes.filter((o) => o.status === "sent").length).toBe(80);
      // Settle: anything sent twice would show up now.
      await new Promise((r) => setTimeout(r, 1_000));
      const ids = deliveries.map((d) => d.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids.length).toBe(80);
      // The flush lost jobs (some not yet sent) and the reconciliation brought them back.
      expect(sentBefore).toBeLessThan(80);
      expect(await metric(pipeline.metrics.registry, "lifecycle_follow_ups_reconciled_total")).toBeGreaterThan(0);
    } finally {
      await pipeline.stop().catch(() => undefined);
      probe.disconnect();
      await redis.dispose();
    }
  });

  test("Redis persistence is checked at start-up: no append-only file or an evicting memory policy is a warning naming the fix", { timeout: 30_000 }, async () => {
    const durable = await startPrivateRedis({ persistence: true });
    const volatile = await startPrivateRedis({ persistence: false });
    const a = createRedisConnection(durable.url, "durability-a");
    const b = createRedisConnection(volatile.url, "durability-b");
    try {
      expect(await checkRedisDurability(a)).toMatchObject({ appendOnly: true, evictionPolicy: "noeviction", warnings: [] });
      const none = await checkRedisDurability(b);
      expect(none).toMatchObject({ appendOnly: false, snapshots: "" });
      expect(none.warnings).toEqual([expect.stringMatching(/^Redis runs without persistence .*set appendonly yes$/)]);
      await a.config("SET", "maxmemory-policy", "allkeys-lru");
      expect((await checkRedisDurability(a)).warnings).toEqual(["Redis maxmemory-policy is allkeys-lru: when full it may evict queued jobs; set noeviction"]);
    } finally {
      a.disconnect();
      b.disconnect();
      await durable.dispose();
      await volatile.dispose();
    }
  });
});
