import { Queue } from "bullmq";
import type { Pool } from "@lifecycle/db";
import { EngineSettings } from "@lifecycle/domain";
import { followUpJobParts, followUpQueue, LifecycleEvent } from "@lifecycle/events";
import { createRedisConnection } from "@lifecycle/queue";
import { createWorkerService } from "@lifecycle/worker";
import type { Channel, Delivery } from "@lifecycle/worker/channels";
import { createTestLogger, describe, expect, test, uniqueName, waitFor } from "@lifecycle/testkit";
import { createFollowUpPipeline } from "./support/follow-up-pipeline.js";

// Issue 11, done-when 2: the marketing frequency cap and quiet hours through the real worker
// (Postgres, the outbox relay, BullMQ on Redis), and the cap holding when several workers run one
// customer's marketing jobs at once. Channels record what they are given.
const logger = createTestLogger("caps-quiet-hours");
const HOUR_MS = 3_600_000;

/** A channel that keeps what it delivers, under the name of the channel it stands in for. */
function recordingChannel(name: Channel["name"]): Channel & { deliveries: Delivery[] } {
  const deliveries: Delivery[] = [];
  return {
    name,
    deliveries,
    async send(d) {
      deliveries.push(d);
      return { detail: "recorded" };
    },
  };
}

/** Events of one customer, a millisecond apart and ending now. */
function eventsOf(customer: string) {
  let n = 0;
  const base = Date.now() - 1_000;
  return (type: string, data: Record<string, unknown>) =>
    LifecycleEvent.parse({ specversion: "1.0", id: `${customer}-e${++n}`, source: "test", subject: customer, time: new Date(base + n).toISOString(), type, data });
}

/** Today's date in UTC as a birthday: the gift (delay 0) is due since midnight. */
function birthdayToday(): string {
  const today = new Date();
  return `1990-${String(today.getUTCMonth() + 1).padStart(2, "0")}-${String(today.getUTCDate()).padStart(2, "0")}`;
}

/**
 * A consenting repeat buyer and promoter whose birthday is today: a birthday gift, a referral
 * invitation and a cross-sell (all marketing) come due together, beside a thank-you and two CSAT
 * surveys (transactional).
 */
function threeMarketingDue(customer: string): LifecycleEvent[] {
  const ev = eventsOf(customer);
  return [
    ev("customer.registered", { email: `${customer}@example.com`, name: "Ann", birthday: birthdayToday() }),
    ev("customer.consent.updated", { channel: "webhook", status: "granted", source: "sign-up-form" }),
    ev("purchase.completed", { orderId: `${customer}-o1`, amount: "20.00", currency: "USD" }),
    ev("purchase.completed", { orderId: `${customer}-o2`, amount: "30.00", currency: "USD" }),
    ev("survey.responded", { kind: "nps", score: 10 }),
  ];
}

async function outcomesOf(pool: Pool, customerPrefix: string) {
  const r = await pool.query<{ job_id: string; customer_id: string; status: string; detail: string | null }>(
    "SELECT job_id, customer_id, status, detail FROM job_outcomes WHERE customer_id LIKE $1 ORDER BY job_id",
    [`${customerPrefix}%`],
  );
  return r.rows.map((o) => ({ ...o, playbook: followUpJobParts(o.job_id)?.playbook ?? "?" }));
}

/** The Etc/GMT zone (whole hours) where the wall clock shows `localHour` now; Etc/GMT signs are inverted. */
function zoneAtLocalHour(localHour: number, now: Date): { zone: string; offsetHours: number } {
  let offsetHours = (((localHour - now.getUTCHours()) % 24) + 24) % 24;
  if (offsetHours > 14) offsetHours -= 24; // Etc/GMT-14 (UTC+14) to Etc/GMT+12 (UTC-12)
  const zone = offsetHours === 0 ? "Etc/GMT" : offsetHours > 0 ? `Etc/GMT-${offsetHours}` : `Etc/GMT+${-offsetHours}`;
  return { zone, offsetHours };
}

describe("marketing cap and quiet hours through the worker", { timeout: 90_000 }, () => {
  test("three marketing follow-ups due together under a cap of 2: the two first by priority go, the third is skipped with why; transactional ones all go", async ({ infra, database }) => {
    const settings = EngineSettings.parse({
      playbooks: {
        "thank-you": { channel: "webhook" },
        "csat-survey": { channel: "webhook", delayMinutes: 0 },
        "referral-invitation": { channel: "webhook", delayMinutes: 0, priority: 10 },
        "birthday-gift": { channel: "webhook", delayMinutes: 0, priority: 20 },
        "cross-sell": { channel: "webhook", delayMinutes: 0, priority: 30 },
      },
      // Quiet hours apply to e-mail only; the second test covers them.
      delivery: { consentRegime: "opt-in", marketingCap: { max: 2, windowDays: 7 } },
    });
    const webhook = recordingChannel("webhook");
    const pipeline = createFollowUpPipeline({ pool: database.pool, redisUrl: infra.redis.url, prefix: uniqueName("capq"), settings, logger, channels: { webhook } });
    await pipeline.start();
    try {
      const customer = uniqueName("cap-ann");
      await pipeline.apply(threeMarketingDue(customer));
      const got = await waitFor("six outcomes", async () => {
        const all = await outcomesOf(database.pool, customer);
        return all.length === 6 ? all : undefined;
      }, { timeoutMs: 30_000 });

      const status = Object.fromEntries(got.map((o) => [o.playbook === "csat-survey" ? o.job_id.split("|")[3] : o.playbook, o.status]));
      expect(status).toEqual({
        "thank-you": "sent",
        [`order-${customer}-o1`]: "sent",
        [`order-${customer}-o2`]: "sent",
        "referral-invitation": "sent",
        "birthday-gift": "sent",
        "cross-sell": "skipped",
      });
      const crossSell = got.find((o) => o.playbook === "cross-sell");
      expect(crossSell?.detail).toMatch(/^frequency-cap: 2 marketing message\(s\) per 7 days reached \(/);
      // Both ahead of it, sent already or still due when it decided (jobs run side by side).
      expect(crossSell?.detail).toMatch(/referral-invitation (sent |due first \(priority 10\))/);
      expect(crossSell?.detail).toMatch(/birthday-gift (sent |due first \(priority 20\))/);
      expect(webhook.deliveries.map((d) => d.playbook).sort()).toEqual(["birthday-gift", "csat-survey", "csat-survey", "referral-invitation", "thank-you"]);
      // Every claim on the cap went when its attempt ended (it leaves just after the outcome is recorded).
      const claims = async (pattern: string) => (await database.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM marketing_cap_claims WHERE customer_id LIKE $1", [pattern])).rows[0]?.n;
      await waitFor("every claim to leave", async () => ((await claims(customer)) === 0 ? true : undefined), { timeoutMs: 5_000, intervalMs: 50 });
    } finally {
      await pipeline.stop();
    }
  });

  test("a low-priority job a worker picks up before the higher ones yields to them: the outbox says they are due", async ({ infra, database }) => {
    const settings = EngineSettings.parse({
      playbooks: {
        "referral-invitation": { channel: "webhook", delayMinutes: 0, priority: 10 },
        "birthday-gift": { channel: "webhook", delayMinutes: 0, priority: 20 },
        "cross-sell": { channel: "webhook", delayMinutes: 0, priority: 30 },
      },
      delivery: { consentRegime: "opt-in", marketingCap: { max: 2, windowDays: 7 } },
    });
    const webhook = recordingChannel("webhook");
    const pipeline = createFollowUpPipeline({ pool: database.pool, redisUrl: infra.redis.url, prefix: uniqueName("capo"), settings, logger, channels: { webhook } });
    const customer = uniqueName("cap-bo");
    await pipeline.apply(threeMarketingDue(customer));
    // The two ahead are due and handed over (as if the relay had queued them), but no worker has
    // started them: only the cross-sell reaches a worker. Without the outbox's word it would take a slot.
    const handedOver = await database.pool.query(
      "UPDATE outbox SET published_at = now() WHERE kind = 'follow-up' AND split_part(dedupe_key, '|', 3) = $1 AND split_part(dedupe_key, '|', 2) IN ('referral-invitation', 'birthday-gift')",
      [encodeURIComponent(customer)],
    );
    expect(handedOver.rowCount).toBe(2);
    await pipeline.start();
    try {
      const crossSell = await waitFor("the cross-sell's outcome", async () => (await outcomesOf(database.pool, customer)).find((o) => o.playbook === "cross-sell"), { timeoutMs: 30_000 });
      expect(crossSell.status).toBe("skipped");
      expect(crossSell.detail).toMatch(/referral-invitation due first \(priority 10\)/);
      expect(crossSell.detail).toMatch(/birthday-gift due first \(priority 20\)/);
      expect(webhook.deliveries.filter((d) => d.playbook === "cross-sell")).toEqual([]);
    } finally {
      await pipeline.stop();
    }
  });

  test("quiet hours: e-mail to a customer whose local time is 02:00 waits in BullMQ's delayed set until 08:00 there; a customer at 13:00 gets theirs at once", async ({ infra, database }) => {
    const settings = EngineSettings.parse({
      playbooks: { "thank-you": { channel: "email" } },
      delivery: { quietHours: { start: "21:00", end: "08:00" } },
    });
    const email = recordingChannel("email");
    const prefix = uniqueName("quietq");
    const pipeline = createFollowUpPipeline({ pool: database.pool, redisUrl: infra.redis.url, prefix, settings, logger, channels: { email } });
    const inspect = createRedisConnection(infra.redis.url, "quiet-inspect");
    const queue = new Queue(followUpQueue("email"), { connection: inspect, prefix });
    await pipeline.start();
    try {
      const now = new Date();
      const night = zoneAtLocalHour(2, now);
      const day = zoneAtLocalHour(13, now);
      const sleeper = uniqueName("quiet-night");
      const riser = uniqueName("quiet-day");
      const firstPurchase = (customer: string, timezone: string) => {
        const ev = eventsOf(customer);
        return [
          ev("customer.registered", { email: `${customer}@example.com`, name: "Ada", timezone }),
          ev("purchase.completed", { orderId: `${customer}-o1`, amount: "20.00", currency: "USD" }),
        ];
      };
      await pipeline.apply([...firstPurchase(sleeper, night.zone), ...firstPurchase(riser, day.zone)]);

      // The daytime customer's thank-you goes at once.
      await waitFor("the daytime thank-you", async () => (email.deliveries.some((d) => d.customer.id === riser) ? true : undefined), { timeoutMs: 20_000 });
      const riserOutcomes = await outcomesOf(database.pool, riser);
      expect(riserOutcomes.map((o) => [o.playbook, o.status])).toEqual([["thank-you", "sent"]]);

      // The night one ran, was deferred and is back in the delayed set, due when 08:00 comes in
      // its zone: the same local day (it is 02:xx there), 08:00 local = 08:00 UTC minus the offset.
      const sleeperJobId = `fu|thank-you|${sleeper}|first-purchase`;
      const localNow = new Date(now.getTime() + night.offsetHours * HOUR_MS);
      const quietEnd = Date.UTC(localNow.getUTCFullYear(), localNow.getUTCMonth(), localNow.getUTCDate(), 8, 0) - night.offsetHours * HOUR_MS;
      const delayedAt = await waitFor("the night thank-you to be deferred", async () => {
        if ((await queue.getJobState(sleeperJobId)) !== "delayed") return undefined;
        const job = await queue.getJob(sleeperJobId);
        // Deferred by the worker (it ran once), not the relay's own delay.
        if (!job?.processedOn) return undefined;
        const score = await inspect.zscore(queue.toKey("delayed"), sleeperJobId);
        return score === null ? undefined : Math.floor(Number(score) / 0x1000);
      }, { timeoutMs: 20_000 });
      expect(new Date(delayedAt).toISOString()).toBe(new Date(quietEnd).toISOString());
      expect(quietEnd - now.getTime()).toBeGreaterThan(5 * HOUR_MS);
      expect(email.deliveries.filter((d) => d.customer.id === sleeper)).toEqual([]);
      expect(await outcomesOf(database.pool, sleeper)).toEqual([]);
    } finally {
      await queue.close();
      inspect.disconnect();
      await pipeline.stop();
    }
  });

  test("the race for the last slot: two workers running each customer's three marketing jobs at once never exceed the cap", async ({ infra, database }) => {
    // One priority for all three: which two go is then whichever decides first; what matters here
    // is that exactly two go for every customer.
    const settings = EngineSettings.parse({
      playbooks: {
        "thank-you": { enabled: false },
        "csat-survey": { enabled: false },
        "referral-invitation": { channel: "webhook", delayMinutes: 0, priority: 20 },
        "birthday-gift": { channel: "webhook", delayMinutes: 0, priority: 20 },
        "cross-sell": { channel: "webhook", delayMinutes: 0, priority: 20 },
      },
      delivery: { consentRegime: "opt-in", marketingCap: { max: 2, windowDays: 7 } },
    });
    const webhook = recordingChannel("webhook");
    const prefix = uniqueName("raceq");
    const pipeline = createFollowUpPipeline({ pool: database.pool, redisUrl: infra.redis.url, prefix, settings, logger, channels: { webhook } });
    // A second worker service on the same queues, as a second replica would be.
    const secondRedis = createRedisConnection(infra.redis.url, "race-worker-2");
    const second = createWorkerService({ pool: database.pool, connection: secondRedis, prefix, concurrency: 8, logger, settings, channels: { webhook } });
    await pipeline.start();
    await second.start();
    try {
      const run = uniqueName("race");
      const customers = Array.from({ length: 40 }, (_, i) => `${run}-c${i}`);
      // One batch per customer, so a customer's three jobs reach the queue, and idle workers, together.
      for (const customer of customers) await pipeline.apply(threeMarketingDue(customer));
      const got = await waitFor("three outcomes per customer", async () => {
        const all = await outcomesOf(database.pool, `${run}-`);
        return all.length === customers.length * 3 ? all : undefined;
      }, { timeoutMs: 60_000 });

      const sentPer = new Map<string, number>();
      for (const d of webhook.deliveries) sentPer.set(d.customer.id, (sentPer.get(d.customer.id) ?? 0) + 1);
      const overCap = customers.filter((c) => (sentPer.get(c) ?? 0) > 2).map((c) => `${c}: ${sentPer.get(c)}`);
      expect(overCap, "customers sent more than the cap").toEqual([]);
      // Not by sending less: every customer got exactly two, and the third is skipped for the cap.
      expect(customers.filter((c) => sentPer.get(c) !== 2)).toEqual([]);
      const skipped = got.filter((o) => o.status === "skipped");
      expect(skipped.length).toBe(customers.length);
      for (const o of skipped) expect(o.detail).toMatch(/^frequency-cap: /);
      expect(got.filter((o) => o.status === "sent").length).toBe(customers.length * 2);
      // Every claim left (each just after its outcome was recorded).
      await waitFor("every claim to leave", async () => {
        const { rows } = await database.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM marketing_cap_claims WHERE customer_id LIKE $1", [`${run}-%`]);
        return rows[0]?.n === 0 ? true : undefined;
      }, { timeoutMs: 5_000, intervalMs: 50 });
    } finally {
      await second.stop();
      secondRedis.disconnect();
      await pipeline.stop();
    }
  });
});
