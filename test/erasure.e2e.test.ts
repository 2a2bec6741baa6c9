import { Writable } from "node:stream";
import { createApiHarness } from "@lifecycle/api/test-support/api-harness";
import type { Pool } from "@lifecycle/db";
import { EngineSettings } from "@lifecycle/domain";
import { followUpJobId, followUpJobParts, LifecycleEvent } from "@lifecycle/events";
import { createLogger } from "@lifecycle/logging";
import { createRedisConnection, type Redis } from "@lifecycle/queue";
import { describe, expect, test, uniqueName, waitFor } from "@lifecycle/testkit";
import type { Channel, Delivery } from "@lifecycle/worker/channels";
import { createEmailChannel } from "@lifecycle/worker/channels/email";
import { createFollowUpPipeline } from "./support/follow-up-pipeline.js";
import { startSmtpSink } from "./support/smtp-sink.js";

// Issue 12, point 3: a complete erasure. A customer with an e-mail address, a name, a birthday (its
// gift waiting as a delayed BullMQ job), a cancellation with a reason, an order with a referral
// code, and an e-mail that a real SMTP server refused (550, quoting the address) is erased through
// the API. Afterwards none of those values is in any Postgres table, any Redis key of the run or
// any log line the services wrote; CRMs are told (lifecycle.customer.erased); nothing is sent.

/** Every row of every table, as text. */
async function postgresText(pool: Pool): Promise<string> {
  const tables = await pool.query<{ name: string }>(
    "SELECT format('%I.%I', table_schema, table_name) AS name FROM information_schema.tables WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')",
  );
  const dumps = await Promise.all(tables.rows.map(async ({ name }) => (await pool.query<{ row: string }>(`SELECT t::text AS row FROM ${name} t`)).rows.map((r) => `${name} ${r.row}`)));
  return dumps.flat().join("\n");
}

/** Every key under the run's prefix with its value, whatever its type. */
async function redisText(redis: Redis, prefix: string): Promise<string> {
  const out: string[] = [];
  for (const key of await redisKeys(redis, prefix)) {
    const type = await redis.type(key);
    const value =
      type === "string" ? await redis.get(key)
      : type === "hash" ? await redis.hgetall(key)
      : type === "list" ? await redis.lrange(key, 0, -1)
      : type === "set" ? await redis.smembers(key)
      : type === "zset" ? await redis.zrange(key, 0, -1, "WITHSCORES")
      : type === "stream" ? await redis.xrange(key, "-", "+")
      : type;
    out.push(`${key} ${JSON.stringify(value)}`);
  }
  return out.join("\n");
}

async function redisKeys(redis: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = "0";
  do {
    const [next, batch] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== "0");
  return keys;
}

/** Which of `values` occur in `text` (case-insensitive). */
const found = (text: string, values: Record<string, string>) => Object.keys(values).filter((k) => text.toLowerCase().includes((values[k] ?? "").toLowerCase()));

describe("erasure", { timeout: 90_000 }, () => {
  test("erases a customer from Postgres, Redis and the logs, tells CRMs, and sends nothing after", async ({ infra, database }) => {
    const run = uniqueName("erase");
    const customerId = `${run}-c`;
    const personal = {
      email: `${run}.zq@example.com`,
      name: `Zebulon Quarrington ${run.slice(-6)}`,
      birthday: "1984-11-23",
      cancelReason: `moving to the Skellig lighthouse ${run.slice(-6)}`,
      referralCode: `REF-SKELLIG-${run.slice(-6)}`,
    };
    // Every service logs into memory, at debug, through the real logger (redaction included).
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk: Buffer, _enc, done) => void (lines.push(chunk.toString("utf8")), done()) });
    const logger = createLogger({ name: "erasure-test", level: "debug", destination: sink, pretty: false });

    const smtp = await startSmtpSink({ refuse: (address) => address.toLowerCase() === personal.email.toLowerCase() });
    const email = createEmailChannel({ smtpUrl: `smtp://127.0.0.1:${smtp.port}`, from: "Shop <care@shop.example>" });
    const recorded: Delivery[] = [];
    const recorder = (name: "log" | "webhook"): Channel => ({
      name,
      async send(d) {
        recorded.push(d);
        return { detail: "recorded" };
      },
    });
    const settings = EngineSettings.parse({ playbooks: { "thank-you": { channel: "email" } }, delivery: { quietHours: { start: "00:00", end: "00:00" } } });
    const prefix = uniqueName("erq");
    // A horizon past the next birthday: the gift waits in BullMQ as a delayed job, birthday and all.
    const pipeline = createFollowUpPipeline({ pool: database.pool, redisUrl: infra.redis.url, prefix, settings, logger, channels: { email, log: recorder("log"), webhook: recorder("webhook") }, relayHorizonMs: 400 * 86_400_000 });
    const api = await createApiHarness({ infra, pool: database.pool, overrides: { queues: Object.values(pipeline.followUps.queues) }, appLogger: logger.child({ service: "api" }) });
    const redis = createRedisConnection(infra.redis.url, "erasure-test");
    let n = 0;
    const ev = (type: string, data: Record<string, unknown>) => LifecycleEvent.parse({ specversion: "1.0", id: `${run}-e${++n}`, source: "test", subject: customerId, time: new Date(Date.now() + n).toISOString(), type, data });
    const outcomes = async () => (await database.pool.query<{ job_id: string; status: string; detail: string }>("SELECT job_id, status, coalesce(detail, '') AS detail FROM job_outcomes WHERE customer_id = $1", [customerId])).rows;
    const birthdayJob = () => pipeline.followUps.queues.log.getJob(followUpJobId({ customerId, playbook: "birthday-gift", trigger: "birthday-2027" }));
    await pipeline.start();
    try {
      await pipeline.apply([
        ev("customer.registered", { email: personal.email, name: personal.name, birthday: personal.birthday, timezone: "Europe/Dublin" }),
        ev("purchase.completed", { orderId: `${run}-o1`, amount: "20", currency: "USD", referralCode: personal.referralCode }),
      ]);
      // The thank-you e-mail is refused at RCPT TO with the address quoted back: a failed send.
      await waitFor("the refused thank-you", async () => (await outcomes()).find((o) => followUpJobParts(o.job_id)?.playbook === "thank-you" && o.status === "failed"), { timeoutMs: 20_000 });
      await pipeline.apply([ev("customer.cancelled", { reason: personal.cancelReason })]);
      await waitFor("the birthday gift delayed in BullMQ", async () => ((await (await birthdayJob())?.getState()) === "delayed" ? true : undefined), { timeoutMs: 10_000 });
      expect((await birthdayJob())?.data).toMatchObject({ context: { birthday: personal.birthday } });

      // The search works: before the erasure it finds every value in Postgres and the birthday in
      // Redis; a line logged with a value is found in the captured logs.
      expect(found(await postgresText(database.pool), personal).sort()).toEqual(Object.keys(personal).sort());
      expect(found(await redisText(redis, prefix), personal)).toContain("birthday");
      expect(found([...lines, JSON.stringify({ probe: personal.cancelReason })].join("\n"), personal)).toEqual(["cancelReason"]);
      const sentBefore = recorded.length;

      const erasure = await api.app.inject({ method: "DELETE", url: `/v1/customers/${encodeURIComponent(customerId)}/personal-data`, headers: api.auth(api.keys.admin) });
      expect(erasure.statusCode).toBe(200);
      const result = erasure.json<{ erasedAt: string; erased: Record<string, number> }>();
      expect(result.erased).toMatchObject({ customers: 1, inboxEvents: 3, orders: 1, runningJobs: 0 });
      // At least the birthday gift (delayed) and the refused thank-you (failed) left BullMQ.
      expect(result.erased.queuedJobs).toBeGreaterThanOrEqual(2);
      expect(await birthdayJob()).toBeUndefined();

      // CRMs are told, by id only.
      await waitFor("customer.erased published", async () => pipeline.published.find((e) => e.type === "lifecycle.customer.erased" && e.subject === customerId), { timeoutMs: 10_000 });

      // A job queued before the erasure that a worker picks up after it (it was running as the
      // erasure came) is skipped at send time, with why.
      const stale = followUpJobId({ customerId, playbook: "thank-you", trigger: "stale-after-erasure" });
      const now = new Date();
      await pipeline.followUps.queues.email.add(
        "follow-up",
        { customerId, playbook: "thank-you", trigger: "stale-after-erasure", channel: "email", causationId: `${run}-e2`, triggeredAt: now.toISOString(), dueAt: now.toISOString(), expiresAt: new Date(now.getTime() + 86_400_000).toISOString(), priority: 10, context: {} },
        { jobId: stale, timestamp: Date.parse(result.erasedAt) - 1_000 },
      );
      const skipped = await waitFor("the stale job's outcome", async () => (await outcomes()).find((o) => o.job_id === stale), { timeoutMs: 15_000 });
      expect(skipped).toMatchObject({ status: "skipped", detail: expect.stringMatching(/^customer-erased: /) });
      await (await pipeline.followUps.queues.email.getJob(stale))?.remove();

      // Nothing of the customer remains: not in Postgres, not in Redis, not in any log line.
      expect(found(await postgresText(database.pool), personal)).toEqual([]);
      expect(found(await redisText(redis, prefix), personal)).toEqual([]);
      expect(lines.length).toBeGreaterThan(0);
      expect(found(lines.join("\n"), personal)).toEqual([]);
      // Nothing was sent: the refused address never received anything, and nothing went out after.
      expect(smtp.received.flatMap((m) => m.rcptTo).map((a) => a.toLowerCase())).not.toContain(personal.email.toLowerCase());
      expect(recorded.slice(sentBefore).filter((d) => d.customer.id === customerId)).toEqual([]);
    } finally {
      await pipeline.stop().catch(() => undefined);
      await api.close();
      await email.close();
      await smtp.close();
      const left = await redisKeys(redis, prefix);
      if (left.length) await redis.del(...left);
      redis.disconnect();
    }
  });
});
