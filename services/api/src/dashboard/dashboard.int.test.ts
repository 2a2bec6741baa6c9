import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";
import { z } from "zod";
import { EngineSettings } from "@lifecycle/domain";
import { createClock } from "@lifecycle/engine";
import { createFollowUpQueues, createRedisConnection, type FollowUpQueues, type Redis } from "@lifecycle/queue";
import { describe, expect, removeRedisKeys, test, uniqueName } from "@lifecycle/testkit";
import { QueueHealth, StageCounts, StageFlows, WeeklyTrends } from "../routes/dashboard-data.routes.js";
import { CurrentModels, ModelHistory } from "../routes/models.routes.js";
import { UpliftReport } from "../routes/playbook-uplift.routes.js";
import { createApiHarness, type ApiHarness } from "../test-support/api-harness.js";
import { findChromium, watchProblems } from "./browser.test-support.js";
import { atRiskChange, seedFollowUpOutcomes, seedLifecycle } from "./dashboard.test-support.js";

// The ops dashboard in a real headless Chromium against the API on a database filled through the
// ingest path: every page renders its data with a pasted read key, with no console error, no
// failed request and no HTTP error. Screenshots go to .run/screenshots, or to the committed
// docs/screenshots with SCREENSHOTS=update (so an ordinary test run leaves the tree clean).

const SCREENSHOTS = fileURLToPath(new URL(process.env.SCREENSHOTS === "update" ? "../../../../docs/screenshots/" : "../../../../.run/screenshots/", import.meta.url));
const VIEWPORT = { width: 1280, height: 800 };
const DAY_MS = 86_400_000;
/** Customers in the CDNOW 1/10 sample. */
const CUSTOMERS = 2_357;
/** Control groups for the uplift card: the win-backs and the cross-sell hold out a fifth. */
const HOLDOUTS = ["win-back-at-risk", "win-back-churned", "cross-sell"] as const;
const settings = EngineSettings.parse({ playbooks: Object.fromEntries(HOLDOUTS.map((p) => [p, { holdoutShare: 0.2 }])) });

let h: ApiHarness;
let redis: Redis;
let followUps: FollowUpQueues;
let base: string;
let browser: Browser | undefined;
const queuePrefix = uniqueName("dash");

describe("ops dashboard", () => {
  test.beforeAll(async ({ infra, database }) => {
    redis = createRedisConnection(infra.redis.url, "dashboard-test");
    followUps = createFollowUpQueues({ connection: redis, prefix: queuePrefix });
    await seedLifecycle({ pool: database.pool, followUps });
    await seedFollowUpOutcomes({ pool: database.pool, settings });
    // CDNOW has no acquisition data: give two channels of customers a cost, one far under 3:1 and
    // one far over, as their registrations would have (profile facts; no evaluation depends on them).
    await database.pool.query(`UPDATE customers SET acquisition_channel = 'ads', acquisition_cost = 1000 WHERE customer_id < '00300'`);
    await database.pool.query(`UPDATE customers SET acquisition_channel = 'search', acquisition_cost = 1 WHERE customer_id >= '00300' AND customer_id < '00600'`);
    // The history was replayed on the watermark clock: the API reads "now" from it too.
    h = await createApiHarness({ infra, pool: database.pool, overrides: { queues: Object.values(followUps.queues), settings, clock: createClock({ mode: "watermark" }) } });
    base = await h.app.listen({ host: "127.0.0.1", port: 0 });
  }, 180_000);
  // Every key under the prefix (the seeded follow-ups, the queues' own keys) once the relay, the
  // API and the queues are done, even if closing one of them failed.
  test.afterAll(async ({ infra }) => {
    try {
      await browser?.close();
      await h?.close();
      await followUps?.close();
    } finally {
      redis?.disconnect();
      await removeRedisKeys(infra.redis.url, queuePrefix);
    }
  });

  test("the shells need no key and hold no data; assets are ours, revalidated by ETag; the aggregates need the read scope", async () => {
    const shell = await h.app.inject({ url: "/dashboard" });
    expect(shell.statusCode).toBe(200);
    expect(shell.headers["content-type"]).toContain("text/html");
    expect(shell.headers["content-security-policy"]).toContain("script-src 'self'");
    expect(shell.body).toContain("npm run keys -- create --scope read");
    expect(shell.body).not.toMatch(/\b0\d{4}\b/); // no customer id
    for (const url of ["/dashboard/at-risk", "/dashboard/customers", "/dashboard/customers/00004", "/dashboard/models"]) expect((await h.app.inject({ url })).statusCode).toBe(200);

    const chart = await h.app.inject({ url: "/dashboard/assets/chart.umd.min.js" });
    expect(chart.statusCode).toBe(200);
    expect(chart.headers["content-type"]).toContain("text/javascript");
    const etag = String(chart.headers.etag);
    expect((await h.app.inject({ url: "/dashboard/assets/chart.umd.min.js", headers: { "if-none-match": etag } })).statusCode).toBe(304);
    expect((await h.app.inject({ url: "/dashboard/assets/..%2Fdashboard.routes.ts" })).statusCode).toBe(404);

    expect((await h.app.inject({ url: "/v1/queues" })).statusCode).toBe(401);
    expect((await h.app.inject({ url: "/v1/dashboard/stage-counts", headers: h.auth(h.keys.ingest) })).statusCode).toBe(403);
    const bad = await h.app.inject({ url: "/v1/dashboard/trends?from=2025-01-01T00:00:00Z&to=2026-06-01T00:00:00Z", headers: h.auth(h.keys.read) });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ status: 400, errors: [{ path: "querystring.to", message: "at most 53 weeks" }] });
  });

  test("the aggregates agree with the database, GET /v1/metrics and the queues", async ({ database }) => {
    const get = async (url: string): Promise<unknown> => {
      const r = await h.app.inject({ url, headers: h.auth(h.keys.read) });
      expect(r.statusCode, r.body).toBe(200);
      return r.json();
    };
    const counts = await database.pool.query<{ stage: string; n: number }>("SELECT stage, count(*)::int AS n FROM customers GROUP BY stage");
    const latest = await database.pool.query<{ at: Date }>("SELECT max(last_event_at) AS at FROM customers");
    const stageCounts = StageCounts.parse(await get("/v1/dashboard/stage-counts"));
    expect(stageCounts).toMatchObject({ total: CUSTOMERS, unstaged: 0, latestEventAt: latest.rows[0]?.at.toISOString() });
    expect(stageCounts.stages).toEqual(["prospect", "new", "repeat", "at-risk", "churned"].map((stage) => ({ stage, customers: counts.rows.find((r) => r.stage === stage)?.n ?? 0 })));
    expect(stageCounts.stages.find((s) => s.stage === "at-risk")?.customers).toBeGreaterThan(0);

    // The overview's period: the 12 weeks to the midnight after the latest event.
    const to = new Date(Math.floor(Date.parse(stageCounts.latestEventAt ?? "") / DAY_MS) * DAY_MS + DAY_MS);
    const from = new Date(to.getTime() - 12 * 7 * DAY_MS);
    const period = `from=${from.toISOString()}&to=${to.toISOString()}`;
    const flows = StageFlows.parse(await get(`/v1/dashboard/stage-flows?${period}`));
    const transitions = await database.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM stage_transitions WHERE event_time >= $1 AND event_time < $2", [from, to]);
    expect(flows.flows.reduce((sum, f) => sum + f.transitions, 0)).toBe(transitions.rows[0]?.n);
    expect(flows.flows.length).toBeGreaterThan(1);

    const trends = WeeklyTrends.parse(await get(`/v1/dashboard/trends?${period}`));
    expect(trends.weeks).toHaveLength(12);
    const [first] = trends.weeks;
    expect(first).toMatchObject({ start: from.toISOString(), end: new Date(from.getTime() + 7 * DAY_MS).toISOString() });
    expect(trends.weeks.reduce((sum, w) => sum + w.nps.responses, 0)).toBeGreaterThan(0);
    const metrics = await get(`/v1/metrics?from=${first?.start}&to=${first?.end}`);
    expect(metrics).toMatchObject({ groups: [{ key: null, measures: { nps: first?.nps, csat: first?.csat, ces: first?.ces, churn: first?.churn } }] });

    const queues = QueueHealth.parse(await get("/v1/queues"));
    const expected = await Promise.all(Object.values(followUps.queues).map(async (q) => ({ name: q.name, counts: await q.getJobCounts("waiting", "prioritized", "delayed", "failed") })));
    expect(queues.queues.map((q) => ({ name: q.name, counts: { waiting: q.counts.waiting, prioritized: q.counts.prioritized, delayed: q.counts.delayed, failed: q.counts.failed } }))).toEqual(expected);
    // Follow-ups carry a priority: due ones wait in the prioritized set.
    expect(queues.queues.reduce((sum, q) => sum + q.counts.prioritized + q.counts.delayed, 0)).toBeGreaterThan(0);

    // The uplift over the same period, recomputed here from the rows: per playbook, each customer's
    // earliest follow-up due in the period, converted by an order in (due, due + 30 days], counted
    // only when that window ended by the watermark (the replay's now, 1998), else pending.
    const report = UpliftReport.parse(await get(`/v1/playbooks/uplift?${period}&days=30`));
    const watermark = (await database.pool.query<{ at: Date }>("SELECT max(watermark) AS at FROM lifecycle_watermarks")).rows[0]?.at.getTime() ?? NaN;
    expect(report.now).toBe(new Date(watermark).toISOString());
    const seeded = await database.pool.query<{ job_id: string; customer_id: string; status: string; due_at: Date }>(
      "SELECT j.job_id, j.customer_id, j.status, o.due_at FROM job_outcomes j JOIN outbox o ON o.dedupe_key = j.job_id WHERE o.due_at >= $1 AND o.due_at < $2",
      [from, to],
    );
    const orders = await database.pool.query<{ customer_id: string; event_time: Date }>("SELECT customer_id, event_time FROM orders");
    const ordersOf = new Map<string, number[]>();
    for (const o of orders.rows) ordersOf.set(o.customer_id, [...(ordersOf.get(o.customer_id) ?? []), o.event_time.getTime()]);
    const earliest = new Map<string, (typeof seeded.rows)[number]>();
    for (const f of seeded.rows) {
      const key = `${f.job_id.split("|")[1]} ${f.customer_id}`;
      if ((earliest.get(key)?.due_at.getTime() ?? Infinity) > f.due_at.getTime()) earliest.set(key, f);
    }
    for (const p of report.playbooks) {
      const expected = { sent: { customers: 0, converted: 0, pending: 0 }, "held-out": { customers: 0, converted: 0, pending: 0 } };
      for (const [key, f] of earliest) {
        if (!key.startsWith(`${p.playbook} `) || (f.status !== "sent" && f.status !== "held-out")) continue;
        const end = f.due_at.getTime() + 30 * DAY_MS;
        const g = expected[f.status];
        if (end > watermark) g.pending++;
        else {
          g.customers++;
          if ((ordersOf.get(f.customer_id) ?? []).some((at) => at > f.due_at.getTime() && at <= end)) g.converted++;
        }
      }
      expect({ treated: p.treated, heldOut: p.heldOut }, p.playbook).toMatchObject({ treated: expected.sent, heldOut: expected["held-out"] });
    }
    // Real figures to show: the control groups hold customers with ended windows, some of whom bought.
    const withHoldout = report.playbooks.filter((p) => HOLDOUTS.some((name) => name === p.playbook));
    expect(withHoldout.reduce((n, p) => n + p.heldOut.customers, 0)).toBeGreaterThan(0);
    expect(withHoldout.reduce((n, p) => n + p.treated.converted, 0)).toBeGreaterThan(0);
    expect(withHoldout.some((p) => p.low !== null)).toBe(true);
  });

  test("every page renders its data in Chromium with a pasted read key, without a console error or a failed request", { timeout: 120_000 }, async () => {
    browser = await chromium.launch({ executablePath: findChromium(), args: ["--no-sandbox"], headless: true });
    mkdirSync(SCREENSHOTS, { recursive: true });
    const page = await (await browser.newContext({ viewport: VIEWPORT, colorScheme: "light" })).newPage();
    const problems = watchProblems(page);
    const apiCalls: string[] = [];
    page.on("request", (r) => void (new URL(r.url()).pathname.startsWith("/v1/") && apiCalls.push(r.url())));
    // Every step that navigates waits for the new URL before it waits for the page to settle.
    const go = async (action: () => Promise<unknown>, url: RegExp | string) => {
      await Promise.all([page.waitForURL(url), action()]);
    };
    // The overview whole; the long lists as the first screenful.
    const shot = (name: string, fullPage = false) => page.screenshot({ path: `${SCREENSHOTS}${name}.png`, fullPage });
    const settled = async (what: string) => {
      await page.waitForSelector(`body[data-state=ready], body[data-state=error]`, { timeout: 30_000 });
      expect(await page.locator("#page-error").textContent(), what).toBe("");
      expect(problems, what).toEqual([]);
    };

    // The shell asks for a key and says how to make one; nothing is requested before there is one.
    await page.goto(`${base}/dashboard`);
    await expect.poll(() => page.locator("#key-panel").isVisible()).toBe(true);
    expect(await page.locator("#key-panel").textContent()).toContain("npm run keys -- create --scope read");
    expect(apiCalls).toEqual([]);
    await shot("dashboard-key");
    await page.fill("#api-key", h.keys.read);
    await page.click("#key-form button[type=submit]");
    await settled("overview");
    await page.waitForSelector("#stream-status[data-state=live]");
    await assertOverview(page);
    await assertUplift(page, apiCalls);
    await assertChannels(page, apiCalls);
    h.feed.emit(atRiskChange("00004", "1998-06-30T18:00:00Z"));
    await page.waitForSelector("#alerts li a[href='/dashboard/customers/00004']");
    await shot("dashboard-overview", true);

    await go(() => page.click("nav a[href='/dashboard/at-risk']"), `${base}/dashboard/at-risk`);
    await settled("at-risk");
    const atRisk = page.locator("#at-risk-table tbody tr");
    expect(await atRisk.count()).toBeGreaterThan(0);
    expect(await atRisk.first().locator("td").nth(1).textContent()).toMatch(/^\$[\d,]+\.\d{2}$/);
    expect((await atRisk.first().locator("td").nth(3).textContent())?.trim()).not.toBe("—");
    await shot("dashboard-at-risk");

    const customer = await atRisk.first().locator("td a").textContent();
    await go(() => atRisk.first().locator("td a").click(), `${base}/dashboard/customers/${customer}`);
    await settled("customer");
    expect(await page.locator("#customer-id").textContent()).toBe(customer);
    expect(await page.locator("#facts .badge.at-risk").count()).toBeGreaterThan(0);
    expect(await page.locator("#timeline-list li.transition").count()).toBeGreaterThan(0);
    expect(await page.locator("#timeline-list li.event").count()).toBeGreaterThan(0);
    await shot("dashboard-customer");

    await go(() => page.click("nav a[href='/dashboard/customers']"), `${base}/dashboard/customers`);
    await settled("customers");
    await go(() => page.selectOption("#stage-filter", "repeat"), `${base}/dashboard/customers?stage=repeat`);
    await settled("customers by stage");
    expect(await page.locator("#customers-table tbody tr").count()).toBeGreaterThan(0);
    expect(await page.locator("#customers-table tbody .badge:not(.repeat)").count()).toBe(0);
    await shot("dashboard-customers");

    await go(() => page.click("nav a[href='/dashboard/models']"), `${base}/dashboard/models`);
    await settled("models");
    await assertModels(page);
    await shot("dashboard-models", true);
    expect(problems).toEqual([]);
  });

  test("a refused key brings the key panel back with the reason", async () => {
    browser ??= await chromium.launch({ executablePath: findChromium(), args: ["--no-sandbox"], headless: true });
    const page = await (await browser.newContext({ viewport: VIEWPORT })).newPage();
    await page.goto(`${base}/dashboard/at-risk`);
    await page.fill("#api-key", "lcs_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    await page.click("#key-form button[type=submit]");
    await expect.poll(() => page.locator("#key-error").textContent()).toContain("refused");
    expect(await page.locator("#key-panel").isVisible()).toBe(true);
    expect(await page.locator("#key-status").textContent()).toBe("");
    // The refused key was not kept: a reload asks again.
    await page.reload();
    await expect.poll(() => page.locator("#key-panel").isVisible()).toBe(true);
  });
});

/** The overview's parts hold data: funnel, flows, the four trend charts (their canvases' fallback text lists the values), queues. */
async function assertOverview(page: Page) {
  const values = async (id: string) => {
    const canvas = page.locator(`#${id}`);
    expect(Number(await canvas.getAttribute("width")), `${id} is drawn`).toBeGreaterThan(0);
    return ((await canvas.textContent()) ?? "").split("; ").map((point) => point.split(": ")[1]);
  };
  expect((await values("funnel-chart")).map(Number).reduce((a, b) => a + b, 0)).toBe(CUSTOMERS);
  for (const id of ["nps-chart", "csat-chart", "ces-chart", "churn-chart"]) {
    const points = await values(id);
    expect(points, id).toHaveLength(12);
    expect(points.some((v) => Number.isFinite(Number(v))), `${id} has values`).toBe(true);
  }
  expect(await page.locator("#flows-table tbody tr").count()).toBeGreaterThan(1);
  expect(await page.locator("#queues-table tbody tr").count()).toBe(4);
  const totals = await page.locator("#queues-table tr.total td.num").allTextContents();
  expect(totals.some((t) => /^[1-9][\d,]*$/.test(t)), `queue totals ${totals.join(" ")}`).toBe(true);
}

const ChannelsReport = z.object({
  channels: z.array(z.object({ channel: z.string(), customers: z.number(), averageClv: z.string(), cac: z.string(), clvCacRatio: z.number().nullable(), belowThreeToOne: z.boolean().nullable() })),
});
const fmtMoney = (s: string) => new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" }).format(Number(s));

/** The channels card shows the figures GET /v1/metrics?groupBy=channel gave the page, flagging the channel under 3:1. */
async function assertChannels(page: Page, apiCalls: readonly string[]) {
  const call = apiCalls.find((u) => new URL(u).pathname === "/v1/metrics" && new URL(u).searchParams.get("groupBy") === "channel");
  expect(call, "the page asks for the measures by channel").toBeDefined();
  const url = new URL(call ?? "");
  const r = await h.app.inject({ url: `${url.pathname}${url.search}`, headers: h.auth(h.keys.read) });
  const { channels } = ChannelsReport.parse(r.json());
  expect(channels.map((c) => c.channel)).toEqual(["ads", "search", "(none)"]);
  expect(channels.map((c) => c.belowThreeToOne)).toEqual([true, false, null]);
  expect(await page.locator("#channels-table tbody tr").count()).toBe(channels.length);
  for (const c of channels) {
    const row = page.locator(`#channels-table tbody tr[data-channel="${c.channel}"]`);
    const text = async (cls: string) => (await row.locator(`td.${cls}`).textContent())?.trim();
    expect(await text("customers"), c.channel).toBe(fmtInt(c.customers));
    expect(await text("clv"), c.channel).toBe(fmtMoney(c.averageClv));
    expect(await text("cac"), c.channel).toBe(fmtMoney(c.cac));
    expect(await text("ratio"), c.channel).toBe(c.clvCacRatio === null ? "—" : `${c.clvCacRatio.toFixed(1)} : 1`);
    expect(await text("flag"), c.channel).toBe(c.belowThreeToOne === null ? "no spend" : c.belowThreeToOne ? "below 3:1" : "healthy");
  }
  expect(await page.locator("#channels-table tbody tr.below").count()).toBe(1);
}

const fmtRate = (x: number | null) => (x === null ? "—" : `${(x * 100).toFixed(1)} %`);
const fmtPoints = (x: number | null) => (x === null ? "—" : `${x > 0 ? "+" : x < 0 ? "−" : ""}${Math.abs(x * 100).toFixed(1)} pts`);
const fmtInt = (n: number) => n.toLocaleString("en-US");

/** The uplift card shows, per playbook with a control group, the figures the API gave the page for its period. */
async function assertUplift(page: Page, apiCalls: readonly string[]) {
  const call = apiCalls.find((u) => new URL(u).pathname === "/v1/playbooks/uplift");
  expect(call, "the page asks for the uplift").toBeDefined();
  const url = new URL(call ?? "");
  expect(url.searchParams.get("days")).toBe("30");
  const r = await h.app.inject({ url: `${url.pathname}${url.search}`, headers: h.auth(h.keys.read) });
  const report = UpliftReport.parse(r.json());
  const shown = report.playbooks.filter((p) => p.holdoutShare > 0);
  expect(shown.map((p) => p.playbook)).toEqual([...HOLDOUTS].sort((a, b) => report.playbooks.findIndex((p) => p.playbook === a) - report.playbooks.findIndex((p) => p.playbook === b)));
  const rows = page.locator("#uplift-table tbody tr");
  expect(await rows.count()).toBe(shown.length);
  for (const p of shown) {
    const row = page.locator(`#uplift-table tbody tr[data-playbook="${p.playbook}"]`);
    const text = async (cls: string) => (await row.locator(`td.${cls}`).textContent())?.trim();
    expect(await text("treated-rate"), p.playbook).toBe(fmtRate(p.treated.rate));
    expect(await text("treated-counts"), p.playbook).toBe(`${fmtInt(p.treated.converted)} / ${fmtInt(p.treated.customers)}`);
    expect(await text("held-out-rate"), p.playbook).toBe(fmtRate(p.heldOut.rate));
    expect(await text("held-out-counts"), p.playbook).toBe(`${fmtInt(p.heldOut.converted)} / ${fmtInt(p.heldOut.customers)}`);
    expect(await text("uplift"), p.playbook).toBe(fmtPoints(p.uplift));
    expect(await row.locator(".interval-text").textContent(), p.playbook).toBe(p.low === null ? "—" : `${fmtPoints(p.low)} … ${fmtPoints(p.high)}`);
  }
  // At least one playbook has an interval to draw.
  expect(await page.locator("#uplift-table .interval .range").count()).toBeGreaterThan(0);
}

const KIND_NAMES: Record<string, string> = { bgnbd: "BG/NBD", paretonbd: "Pareto/NBD", "gamma-gamma": "Gamma-Gamma" };

/** The Models page shows what GET /v1/models/current and GET /v1/models give: the model, its fit and holdout error, the choice, the charts' points, the history. */
async function assertModels(page: Page) {
  const get = async (url: string): Promise<unknown> => (await h.app.inject({ url, headers: h.auth(h.keys.read) })).json();
  const current = CurrentModels.parse(await get("/v1/models/current"));
  const history = ModelHistory.parse(await get("/v1/models"));
  const count = current.count;
  const validation = count?.validation;
  if (!count || !validation || "skipped" in validation || !current.choice) throw new Error(`the quarterly refits left no validated count model: ${JSON.stringify(count)}`);
  const text = async (selector: string) => (await page.locator(selector).textContent())?.trim();
  expect(await text("#count-kind")).toBe(KIND_NAMES[count.kind]);
  expect(await text("#count-sample")).toBe(fmtInt(count.sampleSize));
  expect(await text("#count-ll")).toBe(count.logLikelihood.toFixed(1));
  expect(await text("#count-mae")).toBe(validation.meanAbsoluteError.toFixed(4));
  expect(await text("#choice-why")).toBe(current.choice.choice.why);
  for (const c of current.choice.candidates) expect(await text(`#candidates-table tr[data-model="${c.model}"] td.mae`), c.model).toBe(c.mae === null ? "—" : c.mae.toFixed(4));

  // The charts' fallback text lists their points: `label: actual a, predicted p; …`.
  const points = async (id: string) => ((await page.locator(`#${id}`).textContent()) ?? "").split("; ");
  const tracking = await points("tracking-chart");
  expect(tracking).toHaveLength(validation.tracking.length);
  const last = validation.tracking.at(-1);
  expect(tracking.at(-1)).toMatch(new RegExp(`: actual ${last?.actual}, predicted ${Number(last?.predicted.toFixed(3))}$`));
  expect(await points("groups-chart")).toEqual(validation.byCalibrationTransactions.map((g) => `${g.calibrationTransactions}${g.orMore ? "+" : ""}: actual ${Number(g.actualMean.toFixed(3))}, predicted ${Number(g.predictedMean.toFixed(3))}`));
  const bins = (await points("p-alive-chart")).map((p) => Number(p.split(": ")[1]));
  expect(bins).toEqual(current.pAliveDistribution.map((b) => b.customers));
  expect(bins.reduce((a, b) => a + b, 0)).toBe(CUSTOMERS);

  // The quarterly refits: every fit a row, newest first, with its verdict.
  const rows = page.locator("#history-table tbody tr");
  expect(await rows.count()).toBe(history.models.length);
  const shown = await Promise.all(Array.from({ length: await rows.count() }, async (_, i) => [Number(await rows.nth(i).getAttribute("data-id")), await rows.nth(i).getAttribute("data-status")]));
  expect(shown).toEqual(history.models.map((m) => [m.id, m.status]));
  expect(history.models.filter((m) => m.status === "accepted").length).toBeGreaterThan(2);
}
