import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { PLAYBOOKS } from "@lifecycle/events";
import { loadFollowUpTemplates } from "./follow-up-templates.js";
import { moneyText } from "./template-variables.js";
import type { TemplateVariables } from "./template-variables.js";

const ann: TemplateVariables["customer"] = { id: "c-1", name: "Ann", email: "ann@example.com", stage: "active", historicalClv: "182.50", predictedClv: "240.00", healthScore: 71 };
const vars = (over: Partial<TemplateVariables> = {}): TemplateVariables => ({ customer: ann, playbook: "thank-you", trigger: "first-purchase", context: {}, ...over });

async function rendered(...args: Parameters<Awaited<ReturnType<typeof loadFollowUpTemplates>>["render"]>) {
  const result = await (await loadFollowUpTemplates()).render(...args);
  if (!result.ok) throw new Error(`render failed: ${result.error.file}: ${result.error.reason}`);
  return result.value;
}

const dirs: string[] = [];
/** A TEMPLATES_DIR with the given files (relative path → content), removed after the test. */
async function overrideDir(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "lifecycle-templates-"));
  dirs.push(dir);
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(dir, path, ".."), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  return dir;
}
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

describe("default follow-up templates", () => {
  it.each(PLAYBOOKS)("%s renders a subject, a text and an HTML document in en", async (playbook) => {
    const m = await rendered(playbook, "en", vars({ playbook, context: { orderId: "o-1", ticketId: "t-1" } }));
    expect(m.locale).toBe("en");
    expect(m.subject).toMatch(/^\S.{3,}$/);
    expect(m.subject).not.toContain("\n");
    expect(m.text.length).toBeGreaterThan(20);
    expect(m.html).toMatch(/^<!doctype html>[\s\S]*<html lang="en">[\s\S]*<\/html>$/);
    // Nothing left unrendered.
    expect(`${m.subject}${m.text}${m.html}`).not.toMatch(/\{\{|\{%/);
  });

  it("fills in the customer, the playbook's context, stage and CLV", async () => {
    expect(await rendered("thank-you", "en", vars())).toMatchObject({
      subject: "Thank you for your first order",
      text: "Hello Ann,\n\nthank you for your first order with us. Here is how to get the most out of it.\n\nIf anything is not as you expected, just reply to this message: a person reads every answer.",
    });
    expect((await rendered("csat-survey", "en", vars({ playbook: "csat-survey", context: { ticketId: "t-7" } }))).text).toContain("our help with ticket t-7?");
    expect((await rendered("csat-survey", "en", vars({ playbook: "csat-survey", context: { orderId: "o-3" } }))).text).toContain("your order o-3?");
    const escalation = await rendered("escalation", "en", vars({ playbook: "escalation", context: { ticketId: "t-9" } }));
    expect(escalation.subject).toBe("Ticket t-9 is past its response target");
    expect(escalation.text).toContain("Stage: active. Historical CLV: 182.50; predicted CLV: 240.00; health score: 71.");
  });

  it("renders missing variables as nothing, and the templates test for them", async () => {
    const m = await rendered("thank-you", "en", vars({ customer: { id: "c-2" } }));
    expect(m.text).toMatch(/^Hello,\n\nthank you/);
    expect(m.html).toContain("<p>Hello,</p>");
    const escalation = await rendered("escalation", "en", vars({ playbook: "escalation", customer: { id: "c-2" }, context: { ticketId: "t-1" } }));
    expect(escalation.text).toContain("Stage: unknown. Historical CLV: 0; predicted CLV: not yet fitted.");
  });

  it("escapes values in HTML only", async () => {
    const customer = { id: "c-3", name: `<script>alert("x")</script> & Co` };
    const m = await rendered("win-back-at-risk", "en", vars({ playbook: "win-back-at-risk", customer }));
    expect(m.html).toContain("<p>Hello &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Co,</p>");
    expect(m.html).not.toContain("<script>");
    expect(m.text).toContain(`Hello <script>alert("x")</script> & Co,`);
  });

  it("shows the unsubscribe link in both bodies when there is one, and no footer otherwise", async () => {
    const unsubscribeUrl = "https://api.example.com/v1/unsubscribe?token=a.b&x=1";
    const m = await rendered("win-back-churned", "en", vars({ playbook: "win-back-churned", unsubscribeUrl }));
    expect(m.text).toMatch(/\n\n--\nUnsubscribe from these messages: https:\/\/api\.example\.com\/v1\/unsubscribe\?token=a\.b&x=1$/);
    expect(m.html).toContain(`<a href="https://api.example.com/v1/unsubscribe?token=a.b&amp;x=1">Unsubscribe</a>`);
    const without = await rendered("win-back-churned", "en", vars({ playbook: "win-back-churned" }));
    expect(without.text).not.toContain("Unsubscribe");
    expect(without.html).not.toContain("Unsubscribe");
  });

  it("chooses the customer's locale, then its parent, then the default locale, then en", async () => {
    expect(await rendered("win-back-at-risk", "de-AT", vars())).toMatchObject({ locale: "de", subject: "Wir vermissen Sie" });
    expect((await rendered("win-back-at-risk", "de-AT", vars())).html).toContain(`<html lang="de">`);
    // No German cross-sell: English.
    expect(await rendered("cross-sell", "de-AT", vars())).toMatchObject({ locale: "en", subject: "Picked for you" });
    expect(await rendered("birthday-gift", "fr", vars())).toMatchObject({ locale: "en", subject: "Happy birthday!" });
    const germanByDefault = await loadFollowUpTemplates({ defaultLocale: "de" });
    expect(germanByDefault.localeFor("birthday-gift", undefined)).toBe("de");
    expect(germanByDefault.localeFor("birthday-gift", "fr-FR")).toBe("de");
    expect(germanByDefault.localeFor("recovery", undefined)).toBe("en");
  });

  it("knows the locales it has templates for", async () => {
    const templates = await loadFollowUpTemplates();
    expect([templates.knowsLocale("de-AT"), templates.knowsLocale("en-GB"), templates.knowsLocale("fr"), templates.knowsLocale("x_y")]).toEqual([true, true, false, false]);
  });
});

describe("moneyText", () => {
  it("shows money with two decimals and nothing for no value", () => {
    expect([moneyText("42.5000"), moneyText("0"), moneyText("9999999999.9999"), moneyText("12.345"), moneyText(null), moneyText(undefined), moneyText("")]).toEqual(["42.50", "0.00", "10000000000.00", "12.35", undefined, undefined, undefined]);
  });
});

describe("TEMPLATES_DIR", () => {
  it("replaces the defaults file by file", async () => {
    const dir = await overrideDir({ "win-back-at-risk/en.subject.liquid": "{{ customer.name }}, it has been a while\n" });
    const result = await (await loadFollowUpTemplates({ dir })).render("win-back-at-risk", "en", vars());
    expect(result).toMatchObject({ ok: true, value: { subject: "Ann, it has been a while" } });
    // The text and HTML of that playbook, and every other playbook, stay the defaults.
    expect(result.ok && result.value.text).toContain("Here is an offer to welcome you back.");
  });

  it("adds a locale", async () => {
    const dir = await overrideDir({ "cross-sell/fr.subject.liquid": "Pour vous", "cross-sell/fr.text.liquid": "Bonjour", "cross-sell/fr.html.liquid": "<p>Bonjour</p>" });
    const templates = await loadFollowUpTemplates({ dir });
    expect(await templates.render("cross-sell", "fr-CA", vars())).toMatchObject({ ok: true, value: { locale: "fr", subject: "Pour vous", text: "Bonjour" } });
    expect(templates.knowsLocale("fr")).toBe(true);
  });

  it("refuses a template that does not parse, naming the file", async () => {
    const dir = await overrideDir({ "recovery/en.text.liquid": "Hello {% if customer.name %}{{ customer.name }}" });
    await expect(loadFollowUpTemplates({ dir })).rejects.toThrow(`${join(dir, "recovery", "en.text.liquid")}: does not parse`);
  });

  it("refuses an unknown filter (a typo would otherwise render nothing)", async () => {
    const dir = await overrideDir({ "recovery/en.subject.liquid": "{{ customer.name | upcse }}" });
    await expect(loadFollowUpTemplates({ dir })).rejects.toThrow(/recovery\/en\.subject\.liquid: does not parse: .*upcse/);
  });

  it("refuses files it would never use and half-translated locales", async () => {
    await expect(loadFollowUpTemplates({ dir: await overrideDir({ "winback/en.subject.liquid": "x" }) })).rejects.toThrow(/winback: not a playbook folder/);
    await expect(loadFollowUpTemplates({ dir: await overrideDir({ "recovery/en.body.liquid": "x" }) })).rejects.toThrow(/en\.body\.liquid: not <locale>/);
    await expect(loadFollowUpTemplates({ dir: await overrideDir({ "recovery/it.subject.liquid": "x" }) })).rejects.toThrow(/recovery\/it\.subject\.liquid: recovery\/it has no text, html template/);
    await expect(loadFollowUpTemplates({ dir: "/nonexistent/lifecycle-templates" })).rejects.toThrow(/cannot read the template directory \/nonexistent\/lifecycle-templates/);
  });

  it("reports a render error as a value naming the file, not a throw", async () => {
    const dir = await overrideDir({ "recovery/en.html.liquid": "{% for i in (1..100000000) %}{{ i }}{% endfor %}" });
    const result = await (await loadFollowUpTemplates({ dir })).render("recovery", "en", vars({ playbook: "recovery" }));
    expect(result).toMatchObject({ ok: false, error: { file: join(dir, "recovery", "en.html.liquid") } });
    expect(!result.ok && result.error.reason).toMatch(/limit/i);
  });

  it("cannot read files from a template", async () => {
    const dir = await overrideDir({ "recovery/en.text.liquid": "{% render '/etc/passwd' %}" });
    const result = await (await loadFollowUpTemplates({ dir })).render("recovery", "en", vars({ playbook: "recovery" }));
    expect(result.ok).toBe(false);
  });
});
