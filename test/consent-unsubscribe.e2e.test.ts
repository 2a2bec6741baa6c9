import { createJobOutcomeRepo, createOutboxRepo } from "@lifecycle/db";
import { EngineSettings } from "@lifecycle/domain";
import { createClock } from "@lifecycle/engine";
import { CustomerConsentUpdated, LifecycleEvent } from "@lifecycle/events";
import { applyEvents, createApplyDeps, createOutboxRelay } from "@lifecycle/pipeline";
import { createFollowUpQueues, createRedisConnection } from "@lifecycle/queue";
import { createApiHarness } from "@lifecycle/api/test-support/api-harness";
import { createWorkerService } from "@lifecycle/worker";
import { createEmailChannel } from "@lifecycle/worker/channels/email";
import { createTestLogger, describe, expect, readTopic, test, uniqueName, waitFor } from "@lifecycle/testkit";
import { startSmtpSink } from "./support/smtp-sink.js";

// Issue 11, done-when 1: with a real SMTP server, marketing mail carries the RFC 8058 headers and
// a link; a one-click POST unsubscribes (through the API, Kafka and the ingest's own apply); the
// next marketing follow-up for that customer is skipped as no-consent while transactional ones
// still go. Every part is real: Postgres, the outbox relay, BullMQ on Redis, the worker, SMTP.
const SECRET = "e2e-unsubscribe-secret-0123456789abcdef";

describe("consent and one-click unsubscribe", { timeout: 120_000 }, () => {
  test("marketing mail can be unsubscribed from in one click; transactional mail still goes", async ({ infra, database }) => {
    const logger = createTestLogger("consent-e2e");
    const smtp = await startSmtpSink();
    const prefix = uniqueName("consent-q");
    const settings = EngineSettings.parse({
      playbooks: {
        "thank-you": { channel: "email" },
        "csat-survey": { channel: "email", delayMinutes: 0 },
        "referral-invitation": { channel: "email", delayMinutes: 0 },
        "cross-sell": { channel: "email", delayMinutes: 0 },
      },
      // No quiet hours: the test must not depend on the hour it runs at (unit tests cover them).
      delivery: { consentRegime: "opt-in", quietHours: { start: "00:00", end: "00:00" } },
    });
    const clock = createClock({ mode: "wall" });
    const relayRedis = createRedisConnection(infra.redis.url, "consent-relay");
    const workerRedis = createRedisConnection(infra.redis.url, "consent-worker");
    const followUps = createFollowUpQueues({ connection: relayRedis, prefix });
    const relay = createOutboxRelay({ pool: database.pool, outbox: createOutboxRepo(database.pool), followUps, now: async () => new Date(), publishStageChanges: async () => undefined, logger, idleMs: 100 });
    const email = createEmailChannel({ smtpUrl: `smtp://127.0.0.1:${smtp.port}`, from: "Shop <news@shop.example>" });
    const worker = createWorkerService({
      pool: database.pool,
      connection: workerRedis,
      prefix,
      concurrency: 2,
      logger,
      clock,
      settings,
      channels: { email },
      unsubscribe: { baseUrl: "https://lifecycle.shop.example/", secret: SECRET, linkDays: 30 },
    });
    const api = await createApiHarness({ infra, pool: database.pool, overrides: { unsubscribeSecret: SECRET } });
    const deps = createApplyDeps({ pool: database.pool, rates: { USD: "1" }, clock, settings, modelCacheMs: 0 });
    let offset = 0;
    // What the ingest consumer does with a batch: the same applyEvents, then the relay is woken.
    const ingest = async (events: readonly LifecycleEvent[]) => {
      await applyEvents(deps, events.map((event) => ({ event, topic: "t", partition: 0, offset: offset++ })));
      relay.wake();
    };
    relay.start();
    await worker.start();
    try {
      const customer = uniqueName("ada");
      const now = Date.now();
      const at = (minutesAgo: number) => new Date(now - minutesAgo * 60_000).toISOString();
      const event = (id: string, type: string, minutesAgo: number, data: object) => LifecycleEvent.parse({ specversion: "1.0", id: `${customer}-${id}`, source: "shop", type, subject: customer, time: at(minutesAgo), data });
      await ingest([
        event("reg", "customer.registered", 60, { email: "ada@example.com", name: "Ada" }),
        event("consent", "customer.consent.updated", 59, { channel: "email", status: "granted", source: "sign-up-form" }),
        event("p1", "purchase.completed", 50, { orderId: "o1", amount: "40.00", currency: "USD" }),
        event("nps", "survey.responded", 40, { kind: "nps", score: 10 }),
      ]);

      // A thank-you and a CSAT survey (transactional) and a referral invitation (marketing).
      await waitFor("three e-mails", async () => (smtp.received.length >= 3 ? true : undefined), { timeoutMs: 30_000 });
      const subjectOf = (m: (typeof smtp.received)[number]) => m.headers.get("x-lifecycle-id") ?? "";
      const referral = smtp.received.find((m) => subjectOf(m).startsWith("fu|referral-invitation|"));
      const transactional = smtp.received.filter((m) => !subjectOf(m).startsWith("fu|referral-invitation|"));
      expect(transactional.map((m) => subjectOf(m).split("|")[1]).sort()).toEqual(["csat-survey", "thank-you"]);
      for (const m of transactional) {
        expect(m.headers.has("list-unsubscribe")).toBe(false);
        expect(m.body).not.toContain("Unsubscribe");
      }
      const listUnsubscribe = referral?.headers.get("list-unsubscribe") ?? "";
      expect(listUnsubscribe).toMatch(/^<https:\/\/lifecycle\.shop\.example\/v1\/unsubscribe\?token=[\w.-]+>$/);
      expect(referral?.headers.get("list-unsubscribe-post")).toBe("List-Unsubscribe=One-Click");
      const url = new URL(listUnsubscribe.slice(1, -1));
      expect(referral?.body.replace(/=\r\n/g, "")).toContain(url.searchParams.get("token") ?? "missing");

      // The mail client's one-click POST, to the API (no key): a consent event on Kafka ...
      const click = await api.app.inject({ method: "POST", url: `${url.pathname}${url.search}`, headers: { "content-type": "application/x-www-form-urlencoded" }, payload: "List-Unsubscribe=One-Click" });
      expect(click.statusCode).toBe(200);
      const [produced] = await readTopic(api.kafka, api.topics.customer, 1);
      const withdrawal = CustomerConsentUpdated.parse(JSON.parse(produced?.value?.toString() ?? "null"));
      expect(withdrawal).toMatchObject({ subject: customer, data: { channel: "email", status: "withdrawn", source: "one-click-unsubscribe" } });
      // ... which ingest applies.
      await ingest([withdrawal]);
      const { rows: consent } = await database.pool.query("SELECT status, source FROM customer_consents WHERE customer_id = $1", [customer]);
      expect(consent).toEqual([{ status: "withdrawn", source: "one-click-unsubscribe" }]);

      // A second purchase: repeat buyer → a cross-sell (marketing) and a CSAT survey (transactional).
      await ingest([event("p2", "purchase.completed", 1, { orderId: "o2", amount: "60.00", currency: "USD" })]);
      const outcomes = createJobOutcomeRepo(database.pool);
      const settled = await waitFor("the cross-sell and the second survey to finish", async () => {
        const all = await outcomes.listForCustomer(customer);
        const crossSell = all.find((o) => o.jobId.startsWith("fu|cross-sell|"));
        const survey = all.find((o) => o.jobId.includes("order-o2"));
        return crossSell && survey ? { crossSell, survey } : undefined;
      }, { timeoutMs: 30_000 });
      expect(settled.crossSell).toMatchObject({ status: "skipped", detail: "no-consent: marketing on email withdrawn" });
      expect(settled.survey).toMatchObject({ status: "sent" });
      await waitFor("the fourth e-mail", async () => (smtp.received.length >= 4 ? true : undefined), { timeoutMs: 10_000 });
      expect(smtp.received.map((m) => subjectOf(m).split("|")[1]).sort()).toEqual(["csat-survey", "csat-survey", "referral-invitation", "thank-you"]);
    } finally {
      await relay.stop();
      await worker.stop();
      await email.close();
      await api.close();
      await followUps.obliterate().catch(() => undefined);
      await followUps.close();
      relayRedis.disconnect();
      workerRedis.disconnect();
      await smtp.close();
    }
  });
});
