import { randomUUID } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import type { Pool } from "@lifecycle/db";
import { EngineSettings } from "@lifecycle/domain";
import { createClock } from "@lifecycle/engine";
import { LifecycleEvent } from "@lifecycle/events";
import { describe, expect, test, uniqueName } from "@lifecycle/testkit";
import { applyEvents, createApplyDeps, type ApplyDeps } from "@lifecycle/pipeline";
import { loadFollowUpTemplates } from "@lifecycle/templates";
import { createApiHarness, type ApiHarness } from "../test-support/api-harness.js";
import { PREVIEW_UNSUBSCRIBE_URL } from "./playbook-preview.routes.js";

// The preview against the real database: customers made by applying real events through the
// ingest handler, rendered with the shipped templates (and, in the last test, a TEMPLATES_DIR).

let h: ApiHarness;
let pool: Pool;
let applyDeps: ApplyDeps;
let offset = 0;

const ev = (subject: string, type: string, data: object): LifecycleEvent =>
  LifecycleEvent.parse({ specversion: "1.0", id: `e-${randomUUID()}`, source: "test", subject, type, time: "2025-05-01T10:00:00Z", data });
const apply = (...events: LifecycleEvent[]) => applyEvents(applyDeps, events.map((event) => ({ event, topic: "t", partition: 0, offset: offset++ })));
const preview = (playbook: string, query: Record<string, string>, app = h.app, key = h.keys.read) =>
  app.inject({ method: "GET", url: `/v1/playbooks/${playbook}/preview?${new URLSearchParams(query).toString()}`, headers: h.auth(key) });

describe("GET /v1/playbooks/:name/preview", () => {
  test.beforeAll(async ({ infra, database }) => {
    pool = database.pool;
    // Win-backs by e-mail: marketing e-mail shows the unsubscribe link.
    h = await createApiHarness({ infra, pool, overrides: { settings: EngineSettings.parse({ playbooks: { "win-back-churned": { channel: "email" } } }) } });
    applyDeps = createApplyDeps({ pool, rates: { USD: "1" }, clock: createClock({ mode: "wall", wallNow: () => new Date("2025-06-01T00:00:00Z") }), modelCacheMs: 0 });
  });
  afterAll(async () => {
    await h.close();
  });

  test("renders subject, text and HTML with the customer's name, stage and CLV, in their locale", async () => {
    const id = uniqueName("preview-de");
    await apply(ev(id, "customer.registered", { name: "Jörg <Jo>", email: "j@example.com", locale: "de-AT" }), ev(id, "purchase.completed", { orderId: "o-1", amount: "42.50", currency: "USD" }));

    const res = await preview("win-back-at-risk", { customerId: id });
    expect(res.statusCode).toBe(200);
    const body = res.json<Record<string, string>>();
    expect(body).toMatchObject({ playbook: "win-back-at-risk", customerId: id, channel: "log", purpose: "marketing", locale: "de", subject: "Wir vermissen Sie" });
    expect(body.text).toMatch(/^Hallo Jörg <Jo>,\n\nes ist eine Weile her/);
    expect(body.html).toContain("<p>Hallo Jörg &lt;Jo&gt;,</p>");
    // Not e-mail: no unsubscribe link.
    expect(body.text).not.toContain(PREVIEW_UNSUBSCRIBE_URL);

    // The escalation (to the team) shows stage and CLV as stored.
    const escalation = await preview("escalation", { customerId: id, ticketId: "t-9" });
    expect(escalation.json()).toMatchObject({ locale: "en", subject: "Ticket t-9 is past its response target" });
    expect(escalation.json<{ text: string }>().text).toMatch(/Stage: [a-z-]+\. Historical CLV: 42\.50; predicted CLV: /);
  });

  test("a locale or channel asked for wins over the customer's and the playbook's", async () => {
    const id = uniqueName("preview-en");
    await apply(ev(id, "customer.registered", { name: "Ada" }));
    expect((await preview("birthday-gift", { customerId: id })).json()).toMatchObject({ locale: "en", subject: "Happy birthday!" });
    expect((await preview("birthday-gift", { customerId: id, locale: "de-CH" })).json()).toMatchObject({ locale: "de", subject: "Alles Gute zum Geburtstag!" });
    // A locale known elsewhere but not for this playbook: its English templates.
    expect((await preview("cross-sell", { customerId: id, locale: "de" })).json()).toMatchObject({ locale: "en", subject: "Picked for you" });

    const byEmail = (await preview("win-back-churned", { customerId: id })).json<{ channel: string; text: string; html: string }>();
    expect(byEmail.channel).toBe("email");
    expect(byEmail.text).toContain(`Unsubscribe from these messages: ${PREVIEW_UNSUBSCRIBE_URL}`);
    expect(byEmail.html).toContain(`<a href="${PREVIEW_UNSUBSCRIBE_URL}">Unsubscribe</a>`);
    const byWebhook = (await preview("win-back-churned", { customerId: id, channel: "webhook" })).json<{ text: string }>();
    expect(byWebhook.text).not.toContain("Unsubscribe");
    // Transactional e-mail carries no link.
    expect((await preview("thank-you", { customerId: id, channel: "email" })).json<{ text: string }>().text).not.toContain("Unsubscribe");
  });

  test("problem details: an unknown customer 404, an unknown playbook or locale 400, no key 401", async () => {
    const id = uniqueName("preview-errors");
    await apply(ev(id, "customer.registered", {}));
    const missing = await preview("thank-you", { customerId: uniqueName("nobody") });
    expect(missing.statusCode).toBe(404);
    expect(missing.headers["content-type"]).toMatch(/^application\/problem\+json/);
    expect(missing.json()).toMatchObject({ status: 404, detail: expect.stringMatching(/^no customer with id/) });

    const unknownPlaybook = await preview("win-back", { customerId: id });
    expect(unknownPlaybook.statusCode).toBe(400);
    expect(unknownPlaybook.json()).toMatchObject({ status: 400, errors: [expect.objectContaining({ path: expect.stringContaining("name") })] });
    const unknownLocale = await preview("thank-you", { customerId: id, locale: "fr" });
    expect(unknownLocale.statusCode).toBe(400);
    expect(unknownLocale.json()).toMatchObject({ detail: "no templates in locale fr or a parent of it" });
    expect((await preview("thank-you", { customerId: id, locale: "not a tag" })).statusCode).toBe(400);
    expect((await preview("thank-you", { customerId: id, channel: "fax" })).statusCode).toBe(400);

    const anonymous = await h.app.inject({ method: "GET", url: `/v1/playbooks/thank-you/preview?customerId=${id}` });
    expect(anonymous.statusCode).toBe(401);
  });

  test("renders TEMPLATES_DIR's files, and a template that fails to render is a 422 naming it", async ({ infra }) => {
    const dir = await mkdtemp(join(tmpdir(), "lifecycle-preview-templates-"));
    const custom = await (async () => {
      await mkdir(join(dir, "recovery"));
      await writeFile(join(dir, "recovery", "en.subject.liquid"), "{{ customer.name | upcase }}: sorry ({{ customer.stage }})");
      await writeFile(join(dir, "recovery", "en.text.liquid"), "{% for i in (1..100000000) %}{{ i }}{% endfor %}");
      return createApiHarness({ infra, pool, overrides: { templates: await loadFollowUpTemplates({ dir }) } });
    })();
    try {
      const id = uniqueName("preview-custom");
      await apply(ev(id, "customer.registered", { name: "Ada" }));
      const failed = await preview("recovery", { customerId: id }, custom.app, custom.keys.read);
      expect(failed.statusCode).toBe(422);
      expect(failed.json()).toMatchObject({ status: 422, detail: expect.stringContaining(`template ${join(dir, "recovery", "en.text.liquid")} failed:`) });
      // The other playbooks, and this one's subject, render as before.
      expect((await preview("thank-you", { customerId: id }, custom.app, custom.keys.read)).json()).toMatchObject({ subject: "Thank you for your first order" });
    } finally {
      await custom.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
