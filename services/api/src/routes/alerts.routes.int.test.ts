import Fastify from "fastify";
import { serializerCompiler, validatorCompiler } from "fastify-type-provider-zod";
import { Partitioners } from "kafkajs";
import { afterAll } from "vitest";
import { z } from "zod";
import { Registry } from "prom-client";
import { createApiKeyRepo, type Pool } from "@lifecycle/db";
import { EngineSettings } from "@lifecycle/domain";
import { StageChanged } from "@lifecycle/events";
import { createEventPublisher, createKafka } from "@lifecycle/kafka";
import { createTestLogger, describe, expect, readTopic, test, uniqueName, waitFor } from "@lifecycle/testkit";
import type { ApiDeps, StageChangeFeed } from "../deps.js";
import { createApiHarness, createLocalFeed, type ApiHarness } from "../test-support/api-harness.js";
import { alertStreamRoutes } from "./alerts-stream.routes.js";
import { openEventStream } from "./alerts-sse.test-support.js";

const DAY_MS = 86_400_000;
const EVALUATED_AT = new Date("2025-06-01T00:00:00Z");
const daysBefore = (days: number) => new Date(EVALUATED_AT.getTime() - days * DAY_MS);

interface SeedCustomer {
  id: string;
  stage: string;
  reason?: string;
  revenue: string;
  purchaseDays: number;
  firstPurchaseDaysAgo: number;
  pAlive?: number;
  predictedClv?: string;
  healthScore?: number;
}

async function seedCustomer(pool: Pool, c: SeedCustomer) {
  const first = daysBefore(c.firstPurchaseDaysAgo);
  const last = daysBefore(100);
  await pool.query(
    `INSERT INTO customers (customer_id, first_seen_at, last_event_at, purchase_count, purchase_days, first_purchase_at, last_purchase_at,
                            revenue, historical_clv, stage, stage_reason, stage_since, p_alive, predicted_clv, health_score, evaluated_at)
     VALUES ($1, $2, $3, $4, $4, $2, $3, $5, $5, $6, $7, $8, $9, $10, $11, $12)`,
    [c.id, first, last, c.purchaseDays, c.revenue, c.stage, c.reason ?? "inactive-90d", daysBefore(10), c.pAlive ?? null, c.predictedClv ?? null, c.healthScore ?? null, EVALUATED_AT],
  );
}

/** A feed that counts its subscribers, to see the stream unsubscribe when the client leaves. */
function countingFeed() {
  const inner = createLocalFeed();
  let subscribers = 0;
  const feed: StageChangeFeed & { emit(e: StageChanged): void; subscribers(): number } = {
    subscribe(listener) {
      subscribers++;
      const unsubscribe = inner.subscribe(listener);
      return () => {
        subscribers--;
        unsubscribe();
      };
    },
    emit: (e) => inner.emit(e),
    subscribers: () => subscribers,
  };
  return feed;
}

function stageChange(customer: string, from: StageChanged["data"]["from"], to: StageChanged["data"]["to"], reason: string): StageChanged {
  const at = new Date().toISOString();
  return StageChanged.parse({
    specversion: "1.0",
    id: uniqueName("sc"),
    source: "customer-lifecycle",
    type: "lifecycle.stage.changed",
    subject: customer,
    time: at,
    data: { from, to, reason, at, clv: { historical: "120.00", predicted: "300.00", pAlive: 0.4, expectedPurchases: 1.2 } },
  });
}

const event = (overrides: Record<string, unknown>) => ({
  specversion: "1.0",
  id: uniqueName("evt"),
  source: "api-test",
  type: "purchase.completed",
  subject: "cust-http",
  time: "2025-05-20T10:00:00+02:00",
  data: { orderId: "o-1", amount: "19.99", currency: "USD" },
  ...overrides,
});

const AtRiskPage = z.object({
  items: z.array(z.object({ id: z.string(), valueAtStake: z.string(), basis: z.string() }).loose()),
  nextCursor: z.string().nullable(),
});
const Problem = z.object({ status: z.number(), detail: z.string() }).loose();

let h: ApiHarness;
const feed = countingFeed();

describe("alerts, metrics and events routes", () => {
  test.beforeAll(async ({ infra, database }) => {
    h = await createApiHarness({ infra, pool: database.pool, overrides: { stageChanges: feed } });
    const seeds: SeedCustomer[] = [
      // predicted: 1000 × (1 − 0.2) = 800.00
      { id: "a-predicted", stage: "at-risk", revenue: "400", purchaseDays: 3, firstPurchaseDaysAgo: 400, pAlive: 0.2, predictedClv: "1000", healthScore: 30 },
      // historical: 600 over 2 years = 300 a year × 365/365.25 × (1 − 0.4) = 179.88
      { id: "b-historical", stage: "at-risk", reason: "detractor-score", revenue: "600", purchaseDays: 4, firstPurchaseDaysAgo: 730.5, healthScore: 40 },
      // one-time buyer (P(alive) 1 by construction): historical, tenure counted as a year, no health score: 50 × 365/365.25 = 49.97
      { id: "c-one-time", stage: "at-risk", revenue: "50", purchaseDays: 1, firstPurchaseDaysAgo: 182, pAlive: 1, predictedClv: "50" },
      // a tie at 50.00, ordered by id
      { id: "d1-tie", stage: "at-risk", revenue: "10", purchaseDays: 2, firstPurchaseDaysAgo: 300, pAlive: 0.5, predictedClv: "100" },
      { id: "d2-tie", stage: "at-risk", revenue: "10", purchaseDays: 2, firstPurchaseDaysAgo: 300, pAlive: 0.5, predictedClv: "100" },
      { id: "e-repeat", stage: "repeat", revenue: "5000", purchaseDays: 9, firstPurchaseDaysAgo: 300, pAlive: 0.1, predictedClv: "9000" },
    ];
    for (const s of seeds) await seedCustomer(database.pool, s);
    await database.pool.query(
      `INSERT INTO survey_responses (event_id, customer_id, kind, score, event_time) VALUES
         ('s1', 'a-predicted', 'nps', 9, '2025-05-10T00:00:00Z'), ('s2', 'b-historical', 'nps', 3, '2025-05-11T00:00:00Z'),
         ('s3', 'e-repeat', 'nps', 10, '2025-05-12T00:00:00Z'), ('s4', 'e-repeat', 'csat', 5, '2025-05-12T00:00:00Z'),
         ('s5', 'e-repeat', 'nps', 0, '2025-04-01T00:00:00Z')`,
    );
  });
  afterAll(async () => {
    await h.close();
  });

  describe("GET /v1/alerts/at-risk", () => {
    test("lists at-risk customers by value at stake with its basis and the customer's figures", async () => {
      const r = await h.app.inject({ url: "/v1/alerts/at-risk", headers: h.auth(h.keys.read) });
      expect(r.statusCode).toBe(200);
      const body = AtRiskPage.parse(r.json());
      expect(body.items.map((i) => [i.id, i.valueAtStake, i.basis])).toEqual([
        ["a-predicted", "800.00", "predicted"],
        ["b-historical", "179.88", "historical"],
        ["d1-tie", "50.00", "predicted"],
        ["d2-tie", "50.00", "predicted"],
        ["c-one-time", "49.97", "historical"],
      ]);
      expect(body.nextCursor).toBeNull();
      expect(body.items[1]).toEqual({
        id: "b-historical",
        stageSince: daysBefore(10).toISOString(),
        reason: "detractor-score",
        valueAtStake: "179.88",
        basis: "historical",
        pAlive: null,
        predictedClv: null,
        historicalClv: "600.00",
        healthScore: 40,
        lastPurchaseAt: daysBefore(100).toISOString(),
      });
      expect(body.items[0]).toMatchObject({ pAlive: 0.2, predictedClv: "1000.00", healthScore: 30 });
    });

    test("pages with a stable cursor: every customer once, in order, ties split across pages", async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const query: string = cursor ? `?limit=2&cursor=${encodeURIComponent(cursor)}` : "?limit=2";
        const r = await h.app.inject({ url: `/v1/alerts/at-risk${query}`, headers: h.auth(h.keys.read) });
        expect(r.statusCode).toBe(200);
        const page = AtRiskPage.parse(r.json());
        seen.push(...page.items.map((i) => i.id));
        cursor = page.nextCursor;
        pages++;
      } while (cursor && pages < 10);
      expect(pages).toBe(3);
      expect(seen).toEqual(["a-predicted", "b-historical", "d1-tie", "d2-tie", "c-one-time"]);
    });

    test("bad parameters are 400 problems naming the parameter", async () => {
      for (const [query, path] of [
        ["limit=0", "querystring.limit"],
        ["limit=501", "querystring.limit"],
        ["limit=abc", "querystring.limit"],
        ["limit=2.5", "querystring.limit"],
        ["cursor=not-a-cursor", "querystring.cursor"],
      ]) {
        const r = await h.app.inject({ url: `/v1/alerts/at-risk?${query}`, headers: h.auth(h.keys.read) });
        expect(r.statusCode, query).toBe(400);
        expect(r.headers["content-type"]).toContain("application/problem+json");
        const p = Problem.parse(r.json());
        expect(p.detail).toContain(path);
      }
      const limit = Problem.parse((await h.app.inject({ url: "/v1/alerts/at-risk?limit=0", headers: h.auth(h.keys.read) })).json());
      expect(limit.detail).toBe("querystring.limit: must be a whole number from 1 to 500");
    });

    test("SQL-injection-shaped input is a 400, or a literal that matches nothing", async ({ database }) => {
      for (const query of ["limit=1;DROP TABLE customers", "cursor=' OR 1=1 --", "limit=1 OR 1=1"]) {
        const r = await h.app.inject({ url: `/v1/alerts/at-risk?${encodeURI(query)}`, headers: h.auth(h.keys.read) });
        expect(r.statusCode, query).toBe(400);
      }
      // A well-formed cursor whose id is SQL: compared as a value, nothing more.
      const evil = Buffer.from(JSON.stringify(["0.00", "x' OR '1'='1"])).toString("base64url");
      const r = await h.app.inject({ url: `/v1/alerts/at-risk?cursor=${evil}`, headers: h.auth(h.keys.read) });
      expect(r.statusCode).toBe(200);
      expect(AtRiskPage.parse(r.json())).toEqual({ items: [], nextCursor: null });
      const count = await database.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM customers");
      expect(count.rows[0]?.n).toBe(6);
    });

    test("needs a key with the read scope", async () => {
      expect((await h.app.inject({ url: "/v1/alerts/at-risk" })).statusCode).toBe(401);
      expect((await h.app.inject({ url: "/v1/alerts/at-risk", headers: h.auth("lcs_nope_nope") })).statusCode).toBe(401);
      expect((await h.app.inject({ url: "/v1/alerts/at-risk", headers: h.auth(h.keys.ingest) })).statusCode).toBe(403);
      expect((await h.app.inject({ url: "/v1/alerts/at-risk", headers: h.auth(h.keys.admin) })).statusCode).toBe(200);
    });
  });

  describe("GET /v1/metrics", () => {
    const Report = z.object({
      from: z.string(),
      to: z.string(),
      groupBy: z.string(),
      groups: z.array(z.object({ key: z.string().nullable(), measures: z.object({ nps: z.object({ score: z.number().nullable(), responses: z.number() }).loose() }).loose() })),
    });

    test("the measures over a period, overall and per stage", async () => {
      const r = await h.app.inject({ url: "/v1/metrics?from=2025-05-01T00:00:00Z&to=2025-06-01T00:00:00%2B00:00&groupBy=stage", headers: h.auth(h.keys.read) });
      expect(r.statusCode).toBe(200);
      const report = Report.parse(r.json());
      expect(report).toMatchObject({ from: "2025-05-01T00:00:00.000Z", to: "2025-06-01T00:00:00.000Z", groupBy: "stage" });
      const nps = Object.fromEntries(report.groups.map((g) => [String(g.key), g.measures.nps]));
      // 9, 3 and 10 in May (the 0 in April is outside): 2 promoters − 1 detractor of 3.
      expect(nps.null).toMatchObject({ responses: 3, score: (100 * (2 - 1)) / 3 });
      expect(nps["at-risk"]).toMatchObject({ responses: 2, score: 0 });
      expect(nps.repeat).toMatchObject({ responses: 1, score: 100 });
      expect(report.groups[0]?.key).toBeNull();
    });

    test("defaults to the last 30 days, overall only", async () => {
      const before = Date.now();
      const r = await h.app.inject({ url: "/v1/metrics", headers: h.auth(h.keys.read) });
      expect(r.statusCode).toBe(200);
      const report = Report.parse(r.json());
      expect(report.groupBy).toBe("none");
      expect(report.groups.map((g) => g.key)).toEqual([null]);
      const to = Date.parse(report.to);
      expect(to).toBeGreaterThanOrEqual(before - 1000);
      expect(to - Date.parse(report.from)).toBe(30 * DAY_MS);
    });

    test("a period that is empty, reversed or unreadable, or an unknown grouping, is a 400 problem", async () => {
      const cases: [string, string][] = [
        ["from=2025-06-01T00:00:00Z&to=2025-06-01T00:00:00Z", "`from` must be before `to`"],
        ["from=2025-07-01T00:00:00Z&to=2025-06-01T00:00:00Z", "`from` must be before `to`"],
        ["from=2999-01-01T00:00:00Z", "`from` must be before `to`"],
        ["from=yesterday", "querystring.from: must be an ISO 8601 date-time"],
        ["to=2025-06-01", "querystring.to: must be an ISO 8601 date-time"],
        ["groupBy=region", "querystring.groupBy: must be one of stage, channel, none"],
        ["groupBy=stage';DROP TABLE customers;--", "querystring.groupBy"],
      ];
      for (const [query, message] of cases) {
        const r = await h.app.inject({ url: `/v1/metrics?${encodeURI(query)}`, headers: h.auth(h.keys.read) });
        expect(r.statusCode, query).toBe(400);
        expect(Problem.parse(r.json()).detail, query).toContain(message);
      }
    });

    test("needs the read scope", async () => {
      expect((await h.app.inject({ url: "/v1/metrics" })).statusCode).toBe(401);
      expect((await h.app.inject({ url: "/v1/metrics", headers: h.auth(h.keys.ingest) })).statusCode).toBe(403);
    });
  });

  describe("GET /v1/alerts/stream", () => {
    test("streams at-risk and churned changes over fetch, ignores other stages, and unsubscribes when the client leaves", async () => {
      const base = await h.app.listen({ port: 0, host: "127.0.0.1" });
      expect((await fetch(`${base}/v1/alerts/stream`)).status).toBe(401);
      expect((await fetch(`${base}/v1/alerts/stream`, { headers: h.auth(h.keys.ingest) })).status).toBe(403);

      const stream = await openEventStream(`${base}/v1/alerts/stream`, h.auth(h.keys.read));
      expect(stream.response.status).toBe(200);
      expect(stream.response.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
      expect(stream.response.headers.get("cache-control")).toContain("no-cache");
      expect(stream.response.headers.get("x-content-type-options")).toBe("nosniff");
      await waitFor("the stream to subscribe", async () => (feed.subscribers() === 1 ? true : undefined));

      const atRisk = stageChange("cust-sse", "repeat", "at-risk", "detractor-score");
      feed.emit(stageChange("cust-sse", null, "new", "first-purchase"));
      feed.emit(atRisk);
      feed.emit(stageChange("cust-sse", "at-risk", "churned", "cancelled"));
      const alerts = await waitFor("two alerts", async () => (stream.alerts().length >= 2 ? stream.alerts() : undefined), { timeoutMs: 5_000 });
      expect(alerts.map((a) => a.event)).toEqual(["at-risk", "churned"]);
      expect(alerts[0]?.id).toBe(atRisk.id);
      expect(JSON.parse(alerts[0]?.data ?? "null")).toEqual({ id: "cust-sse", from: "repeat", reason: "detractor-score", at: atRisk.data.at, clv: atRisk.data.clv });
      expect(stream.events[0]?.comments[0]).toContain("connected");

      await stream.close();
      await waitFor("the stream to unsubscribe", async () => (feed.subscribers() === 0 ? true : undefined), { timeoutMs: 5_000 });
    });

    test("sends heartbeats, and closing the app ends open streams", async ({ database }) => {
      const app = Fastify().withTypeProvider();
      app.setValidatorCompiler(validatorCompiler);
      app.setSerializerCompiler(serializerCompiler);
      const local = countingFeed();
      await app.register(alertStreamRoutes, { deps: streamOnlyDeps(database.pool, local), heartbeatMs: 50 });
      const base = await app.listen({ port: 0, host: "127.0.0.1" });
      const stream = await openEventStream(`${base}/v1/alerts/stream`);
      await waitFor("two heartbeats", async () => (stream.events.filter((e) => e.comments.includes("heartbeat")).length >= 2 ? true : undefined), { timeoutMs: 5_000 });
      await app.close();
      await stream.ended;
      expect(stream.isEnded()).toBe(true);
      expect(local.subscribers()).toBe(0);
    });
  });

  describe("POST /v1/events", () => {
    test("produces the valid events of a mixed batch to their topics and lists the invalid ones with reasons", async () => {
      const purchase = event({ subject: "cust-http-1" });
      const survey = event({ type: "survey.responded", subject: "cust-http-2", data: { kind: "nps", score: 3 } });
      const batch = [
        purchase,
        event({ id: "bad-score", type: "survey.responded", data: { kind: "nps", score: 11 } }),
        survey,
        event({ id: "bad-type", type: "purchase.exploded" }),
        42,
        event({ id: "bad-time", time: "2025-05-20 10:00" }),
        { ...event({}), id: undefined },
        event({ id: "bad-currency", data: { orderId: "o-jpy", amount: "1000", currency: "JPY" } }),
        // What Postgres would refuse, refused here as the consumer refuses it (issue 9).
        event({ id: "bad-day", time: "2025-02-30T10:00:00Z" }),
        event({ id: "bad-future", time: "9999-12-31T23:59:59Z" }),
        event({ id: "bad-text", data: { orderId: "o-nul\u0000", amount: "1", currency: "USD" } }),
        event({ id: "bad-amount", data: { orderId: "o-big", amount: "1234567890123", currency: "USD" } }),
      ];
      const r = await h.app.inject({ method: "POST", url: "/v1/events", headers: h.auth(h.keys.ingest), payload: batch });
      expect(r.statusCode).toBe(202);
      const body = z.object({ accepted: z.number(), rejected: z.number(), results: z.array(z.object({ index: z.number(), id: z.string().nullable(), status: z.string(), reason: z.object({ kind: z.string(), message: z.string(), paths: z.array(z.string()) }).optional() })) }).parse(r.json());
      expect(body).toMatchObject({ accepted: 2, rejected: 10 });
      expect(body.results.map((x) => [x.index, x.id, x.status, x.reason?.kind])).toEqual([
        [0, purchase.id, "accepted", undefined],
        [1, "bad-score", "rejected", "out-of-range"],
        [2, survey.id, "accepted", undefined],
        [3, "bad-type", "rejected", "unknown-type"],
        [4, null, "rejected", "invalid-envelope"],
        [5, "bad-time", "rejected", "invalid-time"],
        [6, null, "rejected", "invalid-envelope"],
        [7, "bad-currency", "rejected", "unsupported-currency"], // no rate from JPY: the consumer would dead-letter it
        [8, "bad-day", "rejected", "invalid-time"],
        [9, "bad-future", "rejected", "time-in-future"],
        [10, "bad-text", "rejected", "invalid-text"],
        [11, "bad-amount", "rejected", "invalid-data"],
      ]);
      expect(body.results[1]?.reason?.paths).toEqual(["data.score"]);

      const [purchased] = await readTopic(h.kafka, h.topics.purchase, 1);
      expect(purchased?.key).toBe("cust-http-1");
      expect(JSON.parse(purchased?.value?.toString() ?? "null")).toEqual(purchase);
      const [surveyed] = await readTopic(h.kafka, h.topics.survey, 1);
      expect(surveyed?.key).toBe("cust-http-2");
      expect(JSON.parse(surveyed?.value?.toString() ?? "null")).toMatchObject({ id: survey.id, type: "survey.responded" });
    });

    test("takes one event as an object, and the CloudEvents media types", async () => {
      const one = event({ type: "customer.registered", subject: "cust-http-3", data: { name: "Ada" } });
      const single = await h.app.inject({ method: "POST", url: "/v1/events", headers: { ...h.auth(h.keys.ingest), "content-type": "application/cloudevents+json" }, payload: JSON.stringify(one) });
      expect(single.statusCode).toBe(202);
      expect(single.json()).toEqual({ accepted: 1, rejected: 0, results: [{ index: 0, id: one.id, status: "accepted" }] });
      const batch = await h.app.inject({ method: "POST", url: "/v1/events", headers: { ...h.auth(h.keys.ingest), "content-type": "application/cloudevents-batch+json" }, payload: JSON.stringify([event({ subject: "cust-http-4" })]) });
      expect(batch.statusCode).toBe(202);
      const produced = await readTopic(h.kafka, h.topics.customer, 1);
      expect(produced.map((m) => m.key)).toEqual(["cust-http-3"]);
    });

    test("a body that is not an object or a batch of 1 to 1000 is a 400 problem", async () => {
      for (const payload of ["42", '"text"', "null", "[]", JSON.stringify(Array.from({ length: 1001 }, () => ({})))]) {
        const r = await h.app.inject({ method: "POST", url: "/v1/events", headers: { ...h.auth(h.keys.ingest), "content-type": "application/json" }, payload });
        expect(r.statusCode, payload.slice(0, 20)).toBe(400);
        expect(r.headers["content-type"]).toContain("application/problem+json");
        expect(Problem.parse(r.json()).detail).toContain("body");
      }
      const notJson = await h.app.inject({ method: "POST", url: "/v1/events", headers: { ...h.auth(h.keys.ingest), "content-type": "application/json" }, payload: "{not json" });
      expect(notJson.statusCode).toBe(400);
    });

    test("needs the ingest scope", async () => {
      expect((await h.app.inject({ method: "POST", url: "/v1/events", payload: [event({})] })).statusCode).toBe(401);
      expect((await h.app.inject({ method: "POST", url: "/v1/events", headers: h.auth(h.keys.read), payload: [event({})] })).statusCode).toBe(403);
    });

    test("Kafka unavailable is a 503 problem and nothing is claimed accepted", async ({ infra, database }) => {
      const kafka = createKafka({ brokers: infra.kafka.brokers, clientId: uniqueName("api-down"), logger: createTestLogger("api-down") });
      // Never connected: kafkajs refuses to send, as it does when the broker is gone.
      const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
      const down = await createApiHarness({ infra, pool: database.pool, overrides: { publishEvents: createEventPublisher({ producer, topics: h.topics }) } });
      try {
        const r = await down.app.inject({ method: "POST", url: "/v1/events", headers: down.auth(down.keys.ingest), payload: [event({}), event({ id: "bad", time: "nope" })] });
        expect(r.statusCode).toBe(503);
        expect(r.headers["retry-after"]).toBe("5");
        expect(r.json()).toMatchObject({ status: 503, title: "Service Unavailable", detail: expect.stringContaining("no event was accepted") });
        expect(r.json()).not.toHaveProperty("results");
      } finally {
        await down.close();
      }
    });
  });

  test("the OpenAPI document describes the routes and their parameters", async () => {
    const doc = z.object({ paths: z.record(z.string(), z.record(z.string(), z.object({ parameters: z.array(z.object({ name: z.string() })).optional() }).loose())) }).parse((await h.app.inject({ url: "/docs/json", headers: h.auth(h.keys.read) })).json());
    expect(doc.paths["/v1/alerts/at-risk"]?.get?.parameters?.map((p) => p.name)).toEqual(["limit", "cursor"]);
    expect(doc.paths["/v1/metrics"]?.get?.parameters?.map((p) => p.name)).toEqual(["from", "to", "groupBy"]);
    expect(doc.paths["/v1/alerts/stream"]?.get).toBeDefined();
    expect(doc.paths["/v1/events"]?.post).toBeDefined();
  });
});

/** Deps for a bare app that serves only the stream (the heartbeat test needs only the feed). */
function streamOnlyDeps(pool: Pool, stageChanges: StageChangeFeed): ApiDeps {
  return {
    pool,
    keys: createApiKeyRepo(pool),
    settings: EngineSettings.parse({}),
    rates: { USD: "1" },
    publishEvents: async () => undefined,
    stageChanges,
    queues: [],
    readiness: [],
    registry: new Registry(),
    rateLimitPerMinute: 1_000,
    bodyLimitBytes: 1_048_576,
  };
}
