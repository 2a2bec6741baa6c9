import { afterAll } from "vitest";
import { createApiKeyRepo } from "@lifecycle/db";
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

  test("the OpenAPI document is served at /docs", async () => {
    const doc = await h.app.inject({ url: "/docs/json" });
    expect(doc.statusCode).toBe(200);
    expect(doc.json()).toMatchObject({ openapi: "3.1.0", info: { title: "Customer lifecycle API" } });
    expect((await h.app.inject({ url: "/docs" })).statusCode).toBeLessThan(400);
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
    expect(r.headers["content-security-policy"]).toBeDefined();
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
