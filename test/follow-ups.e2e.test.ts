import { Queue } from "bullmq";
import { EngineSettings } from "@lifecycle/domain";
import { followUpJobId, followUpJobParts, followUpQueue, LifecycleEvent } from "@lifecycle/events";
import { createRedisConnection } from "@lifecycle/queue";
import { createTestDatabase, createTestLogger, describe, expect, test, uniqueName, waitFor } from "@lifecycle/testkit";
import { createFollowUpPipeline } from "./support/follow-up-pipeline.js";
import { startPrivateRedis } from "@lifecycle/testkit/tools";

// Proactive follow-ups, every part real (Postgres, the outbox relay, BullMQ on Redis, the worker),
// with delays shortened by configuration so each playbook's delay is seen in seconds.
const logger = createTestLogger("follow-ups");
const SECOND = 1 / 60; // in minutes
const settings = EngineSettings.parse({
  rules: { responseTargetMinutes: 3 * SECOND },
  playbooks: {
    "csat-survey": { delayMinutes: 2 * SECOND },
    "cross-sell": { delayMinutes: 1 * SECOND },
    "referral-invitation": { delayMinutes: 1 * SECOND },
    "win-back-at-risk": { delayMinutes: 3 * SECOND },
    "win-back-churned": { delayMinutes: 1 * SECOND },
    "birthday-gift": { delayMinutes: 0 },
  },
});

/** A small history at the current time: one or more triggers of every playbook. */
function history(run: string) {
  const now = Date.now();
  let n = 0;
  const ev = (subject: string, type: string, data: Record<string, unknown>) =>
    LifecycleEvent.parse({ specversion: "1.0", id: `${run}-e${++n}`, source: "test", subject: `${run}-${subject}`, time: new Date(now + n).toISOString(), type, data });
  const today = new Date(now);
  const birthday = `1990-${String(today.getUTCMonth() + 1).padStart(2, "0")}-${String(today.getUTCDate()).padStart(2, "0")}`;
  const first = [
    ev("ann", "customer.registered", { email: "ann@example.com", name: "Ann", birthday }),
    ev("ann", "purchase.completed", { orderId: "a1", amount: "20", currency: "USD" }),
    ev("ann", "purchase.completed", { orderId: "a2", amount: "30", currency: "USD" }),
    ev("bob", "purchase.completed", { orderId: "b1", amount: "20", currency: "USD" }),
    ev("bob", "survey.responded", { kind: "nps", score: 3 }),
    ev("cat", "survey.responded", { kind: "nps", score: 10 }),
    ev("dan", "ticket.opened", { ticketId: "t1" }),
    ev("eve", "ticket.opened", { ticketId: "t2" }),
    ev("eve", "ticket.responded", { ticketId: "t2" }),
    ev("fay", "purchase.completed", { orderId: "f1", amount: "20", currency: "USD" }),
    ev("fay", "customer.cancelled", { reason: "subscription ended" }),
  ];
  // Bob buys again before his win-back offer is due: the offer becomes moot.
  const second = [ev("bob", "purchase.completed", { orderId: "b2", amount: "25", currency: "USD" })];
  return { first, second };
}

/** (customer, playbook) → status, for every outcome of this run. */
const EXPECTED = {
  "ann thank-you": "sent",
  "ann birthday-gift": "sent",
  "ann csat-survey order-a1": "sent",
  "ann csat-survey order-a2": "sent",
  "ann cross-sell": "sent",
  "bob thank-you": "sent",
  "bob csat-survey order-b1": "sent",
  "bob csat-survey order-b2": "sent",
  "bob recovery": "sent",
  "bob win-back-at-risk": "skipped",
  "bob cross-sell": "sent",
  "cat referral-invitation": "sent",
  "dan escalation": "sent",
  "eve escalation": "skipped",
  "fay thank-you": "sent",
  "fay csat-survey order-f1": "sent",
  "fay win-back-churned": "sent",
};

async function outcomes(pool: import("@lifecycle/db").Pool, run: string) {
  const r = await pool.query<{ job_id: string; status: string; detail: string | null; customer_id: string }>(
    "SELECT job_id, status, detail, customer_id FROM job_outcomes WHERE customer_id LIKE $1 ORDER BY job_id",
    [`${run}-%`],
  );
  return r.rows.map((o) => {
    const { playbook, trigger } = followUpJobParts(o.job_id) ?? { playbook: "?", trigger: "?" };
    const customer = o.customer_id.slice(run.length + 1);
    const key = playbook === "csat-survey" ? `${customer} ${playbook} ${trigger}` : `${customer} ${playbook}`;
    return { key, status: o.status, detail: o.detail, jobId: o.job_id };
  });
}

describe("proactive follow-ups", { timeout: 60_000 }, () => {
  test("each playbook fires on its trigger after its delay; a moot job is skipped with why; a replay sends nothing twice", async ({ infra, database }) => {
    const run = uniqueName("fu");
    const prefix = uniqueName("fuq");
    const pipeline = createFollowUpPipeline({ pool: database.pool, redisUrl: infra.redis.url, prefix, settings, logger });
    await pipeline.start();
    try {
      const { first, second } = history(run);
      await pipeline.apply(first);
      await pipeline.apply(second);
      await waitFor("every follow-up to run", async () => ((await outcomes(database.pool, run)).length === Object.keys(EXPECTED).length ? true : undefined), { timeoutMs: 30_000 });
      const got = await outcomes(database.pool, run);
      expect(Object.fromEntries(got.map((o) => [o.key, o.status]))).toEqual(EXPECTED);
      expect(got.find((o) => o.key === "bob win-back-at-risk")?.detail).toBe("no longer at-risk (now repeat)");
      expect(got.find((o) => o.key === "eve escalation")?.detail).toMatch(/^answered at /);
      const metrics = await pipeline.metrics.registry.metrics();
      expect(metrics).toContain('lifecycle_follow_ups_total{playbook="escalation",channel="log",status="skipped"} 1');
      expect(metrics).toContain('lifecycle_follow_ups_total{playbook="csat-survey",channel="log",status="sent"} 5');
      expect(metrics).toMatch(/lifecycle_queue_jobs\{queue="follow-ups-log",state="failed"\} 0/);

      // Next year's birthday gift waits in the outbox (Postgres), not in Redis, where a Redis loss
      // cannot take it.
      const nextYear = new Date().getUTCFullYear() + 1;
      const next = await database.pool.query<{ due_at: Date; published_at: Date | null }>("SELECT due_at, published_at FROM outbox WHERE dedupe_key = $1", [
        followUpJobId({ customerId: `${run}-ann`, playbook: "birthday-gift", trigger: `birthday-${nextYear}` }),
      ]);
      expect(next.rows).toHaveLength(1);
      expect(next.rows[0]?.published_at).toBeNull();
      // The birthday is today's date; this test's gift is due at local midnight (delay 0), in UTC.
      const today = new Date();
      expect(next.rows[0]?.due_at.toISOString()).toBe(new Date(Date.UTC(nextYear, today.getUTCMonth(), today.getUTCDate())).toISOString());

      // Each job waited at least its delay, and the delays are the configured ones.
      const queue = new Queue(followUpQueue("log"), { connection: createRedisConnection(infra.redis.url, "fu-inspect"), prefix });
      try {
        const expectedDelayMs: Record<string, number> = { "csat-survey": 2_000, "cross-sell": 1_000, "referral-invitation": 1_000, "win-back-at-risk": 3_000, escalation: 3_000, "win-back-churned": 1_000, "thank-you": 0, recovery: 0 };
        for (const o of got) {
          const job = await queue.getJob(o.jobId);
          const playbook = o.key.split(" ")[1] ?? "";
          const delay = job?.opts.delay ?? 0;
          const wanted = expectedDelayMs[playbook];
          if (wanted === undefined) continue; // the birthday: due at midnight, earlier today
          expect(delay, o.key).toBeLessThanOrEqual(wanted);
          expect(delay, o.key).toBeGreaterThan(wanted - 1_500);
          expect((job?.processedOn ?? 0) - (job?.timestamp ?? 0), o.key).toBeGreaterThanOrEqual(delay - 5);
        }
      } finally {
        await queue.close();
      }

      // Replays: the same events again (nothing new is recorded), and every outbox row published
      // again (a relay that crashed before marking them): the job ids make both no-ops.
      const sent = pipeline.deliveries.length;
      expect(await pipeline.apply([...first, ...second])).toMatchObject({ applied: 0, outboxed: 0 });
      await database.pool.query("UPDATE outbox SET published_at = NULL WHERE kind = 'follow-up'");
      await pipeline.apply([]);
      await waitFor("the outbox to be published again", async () => {
        const r = await database.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL AND due_at < now() + interval '5 minutes'");
        return r.rows[0]?.n === 0 ? true : undefined;
      });
      await new Promise((r) => setTimeout(r, 1_500));
      expect(pipeline.deliveries.length).toBe(sent);
      expect(new Set(pipeline.deliveries.map((d) => d.id)).size).toBe(sent);
    } finally {
      await pipeline.stop();
    }
  });

  test("with Redis stopped mid-stream, nothing is lost and everything is delivered once when it is back", async ({ infra }) => {
    const db = await createTestDatabase(infra.postgres.adminUrl);
    const redis = await startPrivateRedis();
    const run = uniqueName("rs");
    const pipeline = createFollowUpPipeline({ pool: db.pool, redisUrl: redis.url, prefix: uniqueName("rsq"), settings, logger });
    try {
      await pipeline.start();
      const { first, second } = history(run);
      await pipeline.apply(first.slice(0, 5));
      await waitFor("some deliveries", async () => (pipeline.deliveries.length > 0 ? true : undefined), { timeoutMs: 15_000 });
      await redis.stop();
      // Redis is down: events still commit (with their outbox rows); the relay retries.
      await pipeline.apply(first.slice(5));
      await pipeline.apply(second);
      await new Promise((r) => setTimeout(r, 1_000));
      await redis.start();
      await waitFor("every follow-up to run", async () => ((await outcomes(db.pool, run)).length === Object.keys(EXPECTED).length ? true : undefined), { timeoutMs: 40_000 });
      const got = await outcomes(db.pool, run);
      expect(Object.fromEntries(got.map((o) => [o.key, o.status]))).toEqual(EXPECTED);
      const ids = pipeline.deliveries.map((d) => d.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids.length).toBe(Object.values(EXPECTED).filter((s) => s === "sent").length);
    } finally {
      await pipeline.stop().catch(() => undefined);
      await redis.dispose().catch(() => undefined);
      await db.drop();
    }
  });
});
