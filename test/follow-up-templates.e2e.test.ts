import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createJobOutcomeRepo, createOutboxRepo } from "@lifecycle/db";
import { EngineSettings } from "@lifecycle/domain";
import { createClock } from "@lifecycle/engine";
import { LifecycleEvent } from "@lifecycle/events";
import { applyEvents, createApplyDeps, createOutboxRelay } from "@lifecycle/pipeline";
import { createFollowUpQueues, createRedisConnection } from "@lifecycle/queue";
import { loadFollowUpTemplates } from "@lifecycle/templates";
import { createWorkerService } from "@lifecycle/worker";
import { createEmailChannel } from "@lifecycle/worker/channels/email";
import { createTestLogger, describe, expect, test, uniqueName, waitFor } from "@lifecycle/testkit";
import { startSmtpSink } from "./support/smtp-sink.js";

// Follow-up templates (issue 11, point 4) through the real worker: the customer's locale picks
// the templates, e-mail goes out as text and HTML, a template that fails to render fails its job
// at once naming the file; and a template that does not parse stops the worker and the API at
// start-up, naming the file. Every part is real: Postgres, the outbox relay, BullMQ, SMTP.
const main = (service: string) => fileURLToPath(new URL(`../services/${service}/src/main.ts`, import.meta.url));

function runToExit(entry: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ["--import", "tsx", entry], { env, timeout: timeoutMs, killSignal: "SIGKILL" }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === "number" ? err.code : null;
      resolve({ code, output: `${stdout}${stderr}` });
    });
  });
}

/** A MIME body's quoted-printable text, decoded. */
const unQuotedPrintable = (body: string) =>
  Buffer.from(body.replace(/=\r\n/g, "").replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))), "latin1").toString("utf8");

describe("follow-up templates", { timeout: 120_000 }, () => {
  test("the worker renders in the customer's locale, sends text and HTML, and fails a broken template's job at once", async ({ infra, database }) => {
    const dir = await mkdtemp(join(tmpdir(), "lifecycle-templates-e2e-"));
    await mkdir(join(dir, "thank-you"));
    // French for thank-you, with a body that runs into the render limit.
    const broken = join(dir, "thank-you", "fr.text.liquid");
    await writeFile(join(dir, "thank-you", "fr.subject.liquid"), "Merci");
    await writeFile(broken, "{% for i in (1..100000000) %}{{ i }}{% endfor %}");
    await writeFile(join(dir, "thank-you", "fr.html.liquid"), "<p>Merci</p>");
    const logger = createTestLogger("templates-e2e");
    const smtp = await startSmtpSink();
    const prefix = uniqueName("templates-q");
    const settings = EngineSettings.parse({ playbooks: { "thank-you": { channel: "email" } }, delivery: { quietHours: { start: "00:00", end: "00:00" } } });
    const clock = createClock({ mode: "wall" });
    const relayRedis = createRedisConnection(infra.redis.url, "templates-relay");
    const workerRedis = createRedisConnection(infra.redis.url, "templates-worker");
    const followUps = createFollowUpQueues({ connection: relayRedis, prefix });
    const relay = createOutboxRelay({ pool: database.pool, outbox: createOutboxRepo(database.pool), followUps, now: async () => new Date(), publishStageChanges: async () => undefined, logger, idleMs: 100 });
    const email = createEmailChannel({ smtpUrl: `smtp://127.0.0.1:${smtp.port}`, from: "Shop <hello@shop.example>" });
    const worker = createWorkerService({ pool: database.pool, connection: workerRedis, prefix, concurrency: 2, logger, clock, settings, channels: { email }, templates: await loadFollowUpTemplates({ dir }) });
    const deps = createApplyDeps({ pool: database.pool, rates: { USD: "1" }, clock, settings, modelCacheMs: 0 });
    let offset = 0;
    relay.start();
    await worker.start();
    try {
      const [german, french] = [uniqueName("joerg"), uniqueName("amelie")];
      const event = (subject: string, id: string, type: string, data: object) =>
        LifecycleEvent.parse({ specversion: "1.0", id: `${subject}-${id}`, source: "shop", type, subject, time: new Date(Date.now() - 60_000).toISOString(), data });
      const events = [
        event(german, "reg", "customer.registered", { email: "joerg@example.com", name: "Jörg <J>", locale: "de-AT" }),
        event(german, "p1", "purchase.completed", { orderId: "o1", amount: "40.00", currency: "USD" }),
        event(french, "reg", "customer.registered", { email: "amelie@example.com", name: "Amélie", locale: "fr-FR" }),
        event(french, "p1", "purchase.completed", { orderId: "o1", amount: "40.00", currency: "USD" }),
      ];
      await applyEvents(deps, events.map((e) => ({ event: e, topic: "t", partition: 0, offset: offset++ })));
      relay.wake();

      const outcomes = createJobOutcomeRepo(database.pool);
      const thankYou = (customer: string) => async () => (await outcomes.listForCustomer(customer)).find((o) => o.jobId.startsWith("fu|thank-you|"));
      const [sent, failed] = await Promise.all([waitFor("the German thank-you", thankYou(german), { timeoutMs: 30_000 }), waitFor("the French thank-you", thankYou(french), { timeoutMs: 30_000 })]);
      expect(sent).toMatchObject({ status: "sent" });
      // Failed for good on its first attempt: the same template would fail on every retry.
      expect(failed).toMatchObject({ status: "failed", attempts: 1 });
      expect(failed.detail).toContain(`template ${broken} failed:`);

      expect(smtp.received).toHaveLength(1);
      const [mail] = smtp.received;
      expect(mail?.rcptTo).toEqual(["joerg@example.com"]);
      expect(mail?.headers.get("content-type")).toMatch(/^multipart\/alternative; boundary=/);
      const body = unQuotedPrintable(mail?.body ?? "");
      expect(body).toMatch(/Content-Type: text\/plain; charset=utf-8[\s\S]*Hallo Jörg <J>,\r?\n\r?\nvielen Dank für Ihre erste Bestellung bei uns\./);
      expect(body).toMatch(/Content-Type: text\/html; charset=utf-8[\s\S]*<html lang="de">[\s\S]*<p>Hallo Jörg &lt;J&gt;,<\/p>/);
    } finally {
      await relay.stop();
      await worker.stop();
      await email.close();
      await followUps.obliterate().catch(() => undefined);
      await followUps.close();
      relayRedis.disconnect();
      workerRedis.disconnect();
      await smtp.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("a TEMPLATES_DIR file that does not parse: the worker and the API exit 1 naming it", async () => {
    const dir = await mkdtemp(join(tmpdir(), "lifecycle-bad-templates-"));
    try {
      await mkdir(join(dir, "win-back-churned"));
      const bad = join(dir, "win-back-churned", "en.html.liquid");
      await writeFile(bad, "<p>Hello {% if customer.name %}{{ customer.name }}</p>");
      // Nothing listens on these: if the templates did not stop the service first, it would fail later on another message.
      const env = { ...process.env, TEMPLATES_DIR: dir, DATABASE_URL: "postgres://nobody@127.0.0.1:1/none", REDIS_URL: "redis://127.0.0.1:1", KAFKA_BROKERS: "127.0.0.1:1", LOG_LEVEL: "info" };
      const results = await Promise.all(["worker", "api"].map(async (service) => ({ service, ...(await runToExit(main(service), env, 90_000)) })));
      for (const r of results) {
        expect(r.code, `${r.service} exit code; output: ${r.output.slice(-2_000)}`).toBe(1);
        expect(r.output, r.service).toContain(`could not start: ${bad}: does not parse`);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
