import { afterAll } from "vitest";
import { createApiKeyRepo, createPool, type ApiKeyRepo, type Pool } from "@lifecycle/db";
import { dependencyChecks } from "@lifecycle/telemetry";
import { describe, expect, test } from "@lifecycle/testkit";
import { createApiHarness, type ApiHarness } from "./test-support/api-harness.js";

let h: ApiHarness;

describe("the API's frame: health, docs, keys and scopes, problems, limits", () => {
  test.beforeAll(async ({ infra, database }) => {
    h = await createApiHarness({ infra, pool: database.pool, overrides: { rateLimitPerMinute: 5, bodyLimitBytes: 2_048 } });
  });
  afterAll(async () => {
    await h.close();
  });

  test("health needs no key; readiness reports each dependency", async () => {
    expect((await h.app.inject({ url: "/healthz" })).json()).toEqual({ status: "ok" });
    const ready = await h.app.inject({ url: "/readyz" });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: "ready", checks: { postgres: { ok: true } } });
  });

  test("the OpenAPI document is served at /docs to a read key (HTTP Basic, so a browser asks for it)", async () => {
    const none = await h.app.inject({ url: "/docs/json" });
    expect(none.statusCode).toBe(401);
    expect(none.headers["www-authenticate"]).toMatch(/^Basic realm=/);
    const basic = { authorization: `Basic ${Buffer.from(`ops:${h.keys.read}`).toString("base64")}` };
    const doc = await h.app.inject({ url: "/docs/json", headers: basic });
    expect(doc.statusCode).toBe(200);
    expect(doc.json()).toMatchObject({ openapi: "3.1.0", info: { title: "Customer lifecycle API" } });
    const page = await h.app.inject({ url: "/docs/", headers: basic });
    expect(page.statusCode).toBe(200);
    // Swagger UI's page is under the same strict policy (it loads its scripts from files; one style element by its hash).
    expect(page.headers["content-security-policy"]).toContain("script-src 'self';");
    expect(page.headers["content-security-policy"]).toMatch(/style-src 'self' 'sha256-[A-Za-z0-9+/=]+'(;|$)/);
    expect(page.headers["content-security-policy"]).not.toContain("unsafe-inline");
  });

  test("/docs public only when configured, or off", async ({ infra, database }) => {
    const open = await createApiHarness({ infra, pool: database.pool, overrides: { docs: "public" } });
    const off = await createApiHarness({ infra, pool: database.pool, overrides: { docs: "off" } });
    try {
      expect((await open.app.inject({ url: "/docs/json" })).statusCode).toBe(200);
      const gone = await off.app.inject({ url: "/docs/json" });
      expect(gone.statusCode).toBe(404);
      expect(gone.headers["content-type"]).toContain("application/problem+json");
    } finally {
      await open.close();
      await off.close();
    }
  });

  test("PostgreSQL unreachable: a 503 with Retry-After that says so, not a 500 (the request was fine; a producer retries)", async ({ infra, database }) => {
    // Nothing listens on port 1: every key check and query fails to connect, as during a restart.
    const down = createPool({ connectionString: "postgres://postgres@127.0.0.1:1/none", max: 1 });
    const cut = await createApiHarness({ infra, pool: database.pool, overrides: { keys: createApiKeyRepo(down), pool: down } });
    try {
      const post = await cut.app.inject({ method: "POST", url: "/v1/events", headers: { authorization: `Bearer ${cut.keys.ingest}` }, payload: [] });
      const read = await cut.app.inject({ url: "/v1/customers/anyone", headers: { authorization: `Bearer ${cut.keys.read}` } });
      for (const answer of [post, read]) {
        expect(answer.statusCode).toBe(503);
        expect(answer.headers["retry-after"]).toBe("5");
        expect(answer.json()).toMatchObject({ status: 503, detail: "the database is unavailable; retry shortly" });
      }
    } finally {
      await cut.close();
      await down.end();
    }
  });

  test("no key is 401 with WWW-Authenticate, a wrong key 401, a key without the scope 403, as problem details", async () => {
    const none = await h.app.inject({ url: "/metrics" });
    expect(none.statusCode).toBe(401);
    expect(none.headers["www-authenticate"]).toContain("Bearer");
    expect(none.headers["content-type"]).toContain("application/problem+json");
    expect(none.json()).toMatchObject({ type: "about:blank", title: "Unauthorized", status: 401, instance: "/metrics" });
    const wrong = await h.app.inject({ url: "/metrics", headers: h.auth("lcs_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA") });
    expect(wrong.statusCode).toBe(401);
    expect((await h.app.inject({ url: "/metrics", headers: h.auth(h.keys.ingest) })).statusCode).toBe(403);
    expect((await h.app.inject({ url: "/metrics", headers: h.auth(h.keys.read) })).statusCode).toBe(200);
    expect((await h.app.inject({ url: "/metrics", headers: { "x-api-key": h.keys.admin } })).statusCode).toBe(200);
  });

  test("security headers on every answer; unknown routes are 404 problems", async () => {
    const r = await h.app.inject({ url: "/nowhere" });
    expect(r.statusCode).toBe(404);
    expect(r.json()).toMatchObject({ status: 404, detail: "no route GET /nowhere" });
    expect(r.headers["x-content-type-options"]).toBe("nosniff");
    // Scripts and styles from the API's own files only: no inline script can run.
    expect(r.headers["content-security-policy"]).toContain("script-src 'self';");
    expect(r.headers["content-security-policy"]).not.toContain("unsafe-inline");
  });

  test("the queue board (Bull Board) is for admin keys, by HTTP Basic with the key as the password", async ({ database }) => {
    // Keys of its own: the rate-limit test below counts the harness keys' requests.
    const repo = createApiKeyRepo(database.pool);
    const admin = (await repo.create({ name: "board admin", scopes: ["admin"] })).key;
    const reader = (await repo.create({ name: "board reader", scopes: ["read"] })).key;
    const basic = (key: string) => ({ authorization: `Basic ${Buffer.from(`ops:${key}`).toString("base64")}` });
    const none = await h.app.inject({ url: "/admin/queues" });
    expect(none.statusCode).toBe(401);
    expect(none.headers["www-authenticate"]).toMatch(/^Basic realm=/);
    expect((await h.app.inject({ url: "/admin/queues", headers: basic(reader) })).statusCode).toBe(403);
    const page = await h.app.inject({ url: "/admin/queues", headers: basic(admin) });
    expect(page.statusCode).toBe(200);
    expect(page.headers["content-type"]).toContain("text/html");
    const api = await h.app.inject({ url: "/admin/queues/api/queues", headers: basic(admin) });
    expect(api.statusCode).toBe(200);
    expect(api.json()).toMatchObject({ queues: [] });
  });

  test("requests per key are rate limited with a 429 problem", async () => {
    const key = h.auth(h.keys.admin);
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await h.app.inject({ url: "/metrics", headers: key })).statusCode);
    expect(statuses.slice(0, 4).every((s) => s === 200)).toBe(true);
    expect(statuses.at(-1)).toBe(429);
    const limited = await h.app.inject({ url: "/metrics", headers: key });
    expect(limited.json()).toMatchObject({ status: 429, title: "Too Many Requests" });
  });
});

/** The real key repository, counting its lookups (each is a Postgres query a flood would cost). */
function countingKeys(pool: Pool): ApiKeyRepo & { lookups: () => number } {
  const repo = createApiKeyRepo(pool);
  let lookups = 0;
  return {
    ...repo,
    async verify(key) {
      lookups++;
      return repo.verify(key);
    },
    lookups: () => lookups,
  };
}

describe("limits before authentication, per key after it, and a quiet /readyz", () => {
  let l: ApiHarness;
  let keys: ReturnType<typeof countingKeys>;
  test.beforeAll(async ({ infra, database }) => {
    keys = countingKeys(database.pool);
    l = await createApiHarness({
      infra,
      pool: database.pool,
      overrides: {
        keys,
        limits: { perAddressPerMinute: 300, authFailuresPerMinute: 20, readyzPerMinute: 3 },
        // A failing dependency whose error names an address and a user: none of it may reach the answer.
        readiness: [...dependencyChecks({ postgres: database.pool }), { name: "kafka", check: () => Promise.reject(new Error("connect ECONNREFUSED 10.1.2.3:9092 (user svc-lifecycle)")) }],
      },
    });
  });
  afterAll(async () => {
    await l.close();
  });
  const from = (remoteAddress: string, headers: Record<string, string> = {}) => ({ url: "/metrics", remoteAddress, headers });
  const randomKey = () => `lcs_${Math.random().toString(36).slice(2, 14)}_${"A".repeat(43)}`;

  test("200 requests with random keys from one address: 20 cost a key lookup, the other 180 are 429s that cost none", async () => {
    const before = keys.lookups();
    const statuses: number[] = [];
    for (let i = 0; i < 200; i++) statuses.push((await l.app.inject(from("198.51.100.7", { authorization: `Bearer ${randomKey()}` }))).statusCode);
    expect(statuses.slice(0, 20)).toEqual(Array(20).fill(401));
    expect(statuses.slice(20)).toEqual(Array(180).fill(429));
    expect(keys.lookups() - before).toBe(20);
    const limited = await l.app.inject(from("198.51.100.7", { authorization: `Bearer ${l.keys.read}` }));
    // The address is out of attempts for the minute, even with a good key; X-Forwarded-For is not believed (trustProxy off).
    expect(limited.statusCode).toBe(429);
    expect(limited.headers["retry-after"]).toMatch(/^\d+$/);
    expect(limited.headers["content-type"]).toContain("application/problem+json");
    expect(limited.json()).toMatchObject({ status: 429, detail: expect.stringMatching(/^too many failed authentications from this address \(20 a minute\); retry in \d+ s$/) });
    expect((await l.app.inject(from("198.51.100.7", { authorization: `Bearer ${l.keys.read}`, "x-forwarded-for": "192.0.2.99" }))).statusCode).toBe(429);
    // Another address is not affected.
    expect((await l.app.inject(from("198.51.100.8", { authorization: `Bearer ${l.keys.read}` }))).statusCode).toBe(200);
  });

  test("every address has a budget before any key is looked at, on open routes and unknown ones too", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 301; i++) statuses.push((await l.app.inject({ url: i % 2 ? "/nowhere" : "/v1/unsubscribe", remoteAddress: "198.51.100.20" })).statusCode);
    expect(statuses.filter((s) => s === 429)).toEqual([429]);
    expect(statuses.at(-1)).toBe(429);
    const limited = await l.app.inject({ url: "/healthz", remoteAddress: "198.51.100.20" });
    // The liveness probe stays open: an orchestrator must not restart a busy API.
    expect(limited.statusCode).toBe(200);
  });

  test("/readyz: limited per address, and a failing dependency is named without its error text", async () => {
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await l.app.inject({ url: "/readyz", remoteAddress: "198.51.100.30" }));
    expect(answers.map((a) => a.statusCode)).toEqual([503, 503, 503, 429]);
    expect(answers[3]?.headers["content-type"]).toContain("application/problem+json");
    expect(answers[3]?.json()).toMatchObject({ status: 429, detail: expect.stringMatching(/^rate limit of 3 requests a minute exceeded; retry in \d+ s$/) });
    expect(answers[0]?.json()).toEqual({ status: "not ready", checks: { postgres: { ok: true }, kafka: { ok: false } } });
    expect(answers[0]?.body).not.toMatch(/ECONNREFUSED|10\.1\.2\.3|svc-lifecycle/);
  });
});

describe("behind a proxy (API_TRUST_PROXY)", () => {
  let p: ApiHarness;
  test.beforeAll(async ({ infra, database }) => {
    p = await createApiHarness({ infra, pool: database.pool, overrides: { trustProxy: ["127.0.0.1"], limits: { authFailuresPerMinute: 2 } } });
  });
  afterAll(async () => {
    await p.close();
  });

  test("the client address comes from X-Forwarded-For set by a trusted proxy: each client has its own budget", async () => {
    const viaProxy = (client: string) => p.app.inject({ url: "/metrics", headers: { authorization: "Bearer lcs_wrong_AAAA", "x-forwarded-for": client } });
    expect([(await viaProxy("192.0.2.1")).statusCode, (await viaProxy("192.0.2.1")).statusCode, (await viaProxy("192.0.2.1")).statusCode]).toEqual([401, 401, 429]);
    expect((await viaProxy("192.0.2.2")).statusCode).toBe(401);
  });
});
