import { EngineSettings } from "@lifecycle/domain";
import { followUpJobParts, LifecycleEvent } from "@lifecycle/events";
import { createEmailChannel } from "@lifecycle/worker/channels/email";
import { createTestLogger, describe, expect, test, uniqueName, waitFor } from "@lifecycle/testkit";
import { createFollowUpPipeline } from "./support/follow-up-pipeline.js";
import { startSmtpSink } from "./support/smtp-sink.js";

// Issue 11, point 1: per-channel suppression fed by hard bounces. A real SMTP server refuses one
// customer's address (550 at RCPT TO); the worker stores the suppression as that customer's e-mail
// consent, and the next e-mail follow-up to them is skipped with why, while others still get theirs.
const logger = createTestLogger("hard-bounce");

describe("hard bounces", { timeout: 60_000 }, () => {
  test("a 550 for the address suppresses e-mail for that customer; later e-mail is skipped, not sent", async ({ infra, database }) => {
    const smtp = await startSmtpSink({ refuse: (address) => address.startsWith("gone@") });
    const run = uniqueName("hb");
    const settings = EngineSettings.parse({
      playbooks: { "thank-you": { channel: "email" }, "csat-survey": { channel: "email", delayMinutes: 0 } },
      delivery: { quietHours: { start: "00:00", end: "00:00" } },
    });
    const email = createEmailChannel({ smtpUrl: `smtp://127.0.0.1:${smtp.port}`, from: "Shop <care@shop.example>" });
    const pipeline = createFollowUpPipeline({ pool: database.pool, redisUrl: infra.redis.url, prefix: uniqueName("hbq"), settings, logger, channels: { email } });
    let n = 0;
    const ev = (who: string, type: string, data: Record<string, unknown>) =>
      LifecycleEvent.parse({ specversion: "1.0", id: `${run}-e${++n}`, source: "test", subject: `${run}-${who}`, time: new Date(Date.now() + n).toISOString(), type, data });
    const outcomes = async () =>
      (await database.pool.query<{ job_id: string; customer_id: string; status: string; detail: string | null }>("SELECT job_id, customer_id, status, detail FROM job_outcomes WHERE customer_id LIKE $1", [`${run}-%`])).rows.map((o) => ({
        key: `${o.customer_id.slice(run.length + 1)} ${followUpJobParts(o.job_id)?.playbook ?? "?"} ${followUpJobParts(o.job_id)?.trigger ?? "?"}`,
        status: o.status,
        detail: o.detail ?? "",
      }));
    await pipeline.start();
    try {
      await pipeline.apply([
        ev("gone", "customer.registered", { email: "gone@example.com", name: "Gone" }),
        ev("here", "customer.registered", { email: "here@example.com", name: "Here" }),
        // First purchases: a thank-you and a survey each, by e-mail.
        ev("gone", "purchase.completed", { orderId: "g1", amount: "20", currency: "USD" }),
        ev("here", "purchase.completed", { orderId: "h1", amount: "20", currency: "USD" }),
      ]);
      await waitFor("the first four follow-ups", async () => ((await outcomes()).length === 4 ? true : undefined), { timeoutMs: 20_000 });
      const consent = await database.pool.query<{ status: string; source: string }>("SELECT status, source FROM customer_consents WHERE customer_id = $1 AND channel = 'email'", [`${run}-gone`]);
      expect(consent.rows).toEqual([{ status: "suppressed", source: "hard-bounce" }]);
      const first = await outcomes();
      // Both of gone's messages were refused (the one running second may have been decided before
      // the suppression was stored); here's went out.
      for (const o of first.filter((x) => x.key.startsWith("gone "))) {
        expect(o.status === "failed" ? o.detail : `no-consent ${o.detail}`, o.key).toMatch(/550|no-consent/);
        expect(o.status).not.toBe("sent");
      }
      expect(first.filter((o) => o.key.startsWith("here ")).map((o) => o.status)).toEqual(["sent", "sent"]);

      // A second purchase each: gone's survey is skipped for the suppression, here's is sent.
      await pipeline.apply([ev("gone", "purchase.completed", { orderId: "g2", amount: "20", currency: "USD" }), ev("here", "purchase.completed", { orderId: "h2", amount: "20", currency: "USD" })]);
      await waitFor("the two surveys", async () => ((await outcomes()).length === 6 ? true : undefined), { timeoutMs: 20_000 });
      const byKey = new Map((await outcomes()).map((o) => [o.key, o]));
      expect(byKey.get("gone csat-survey order-g2")).toMatchObject({ status: "skipped", detail: expect.stringMatching(/^no-consent: email suppressed after a hard-bounce on /) });
      expect(byKey.get("here csat-survey order-h2")?.status).toBe("sent");
      // Nothing ever reached the refused address; here@ got all three.
      expect(smtp.received.flatMap((m) => m.rcptTo)).toEqual(["here@example.com", "here@example.com", "here@example.com"]);
    } finally {
      await pipeline.stop().catch(() => undefined);
      await email.close();
      await smtp.close();
    }
  });
});
