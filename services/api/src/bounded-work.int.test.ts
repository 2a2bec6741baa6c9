import { afterAll } from "vitest";
import { createApiKeyRepo, createPool, type Pool } from "@lifecycle/db";
import { describe, expect, test, waitFor } from "@lifecycle/testkit";
import { openEventStream } from "./routes/alerts-sse.test-support.js";
import { createApiHarness, type ApiHarness } from "./test-support/api-harness.js";

// Issue 12, point 2: no request may hold the API's connections or sockets for long. A pool with a
// short statement_timeout (as PG_STATEMENT_TIMEOUT_MS gives the API), a maximum period, and alert
// streams capped per key and overall that end soon after their key is revoked.
describe("bounded work", () => {
  let b: ApiHarness;
  let shortPool: Pool;
  let base: string;
  test.beforeAll(async ({ infra, database }) => {
    // The API's pool size (PG_POOL_MAX 10): the measures run four statements at once, two such reads at most (the gate).
    shortPool = createPool({ connectionString: database.url, max: 10, applicationName: "bounded-work", statementTimeoutMs: 500 });
    b = await createApiHarness({ infra, pool: shortPool, overrides: { limits: { maxPeriodDays: 90 }, streams: { perKey: 2, total: 3, keyRecheckMs: 200 } } });
    base = await b.app.listen({ port: 0, host: "127.0.0.1" });
  });
  afterAll(async () => {
    await b.close();
    await shortPool.end();
  });
  const read = () => b.auth(b.keys.read);

  test("a period past API_MAX_PERIOD_DAYS is a 400 that names it, for the measures and the trends", async () => {
    const long = await b.app.inject({ url: "/v1/metrics?from=2024-01-01T00:00:00Z&to=2024-06-01T00:00:00Z", headers: read() });
    expect(long.statusCode).toBe(400);
    expect(long.headers["content-type"]).toContain("application/problem+json");
    expect(long.json()).toMatchObject({ status: 400, detail: "the period [from, to) spans 152 days; at most 90 (API_MAX_PERIOD_DAYS)" });
    expect((await b.app.inject({ url: "/v1/dashboard/trends?from=2024-01-01T00:00:00Z&to=2024-06-01T00:00:00Z", headers: read() })).json()).toMatchObject({ status: 400, detail: expect.stringContaining("API_MAX_PERIOD_DAYS") });
    expect((await b.app.inject({ url: "/v1/metrics?from=2024-01-01T00:00:00Z&to=2024-03-01T00:00:00Z", headers: read() })).statusCode).toBe(200);
  });

  test("a query running past the statement timeout is a 503 problem, and other requests are served meanwhile", async ({ database }) => {
    // Another session holds the customers table: the measures' statements wait on it until the timeout cancels them.
    const locker = await database.pool.connect();
    try {
      await locker.query("BEGIN");
      await locker.query("LOCK TABLE customers IN ACCESS EXCLUSIVE MODE");
      let slowDone = false;
      const slow = b.app.inject({ url: "/v1/metrics?from=2024-01-01T00:00:00Z&to=2024-02-01T00:00:00Z", headers: read() }).then((r) => {
        slowDone = true;
        return r;
      });
      // Meanwhile: a read of other tables, through the same pool and the same gate.
      const other = await b.app.inject({ url: "/v1/playbooks/uplift?days=30", headers: read() });
      expect(other.statusCode).toBe(200);
      // Answered while the measures still waited on the lock, not queued behind them.
      expect(slowDone).toBe(false);
      const cancelled = await slow;
      expect(cancelled.statusCode).toBe(503);
      expect(cancelled.headers["retry-after"]).toBe("5");
      expect(cancelled.json()).toMatchObject({ status: 503, detail: expect.stringContaining("PG_STATEMENT_TIMEOUT_MS") });
    } finally {
      await locker.query("ROLLBACK");
      locker.release();
    }
    // The pool is whole again.
    expect((await b.app.inject({ url: "/v1/metrics?from=2024-01-01T00:00:00Z&to=2024-02-01T00:00:00Z", headers: read() })).statusCode).toBe(200);
  });

  test("a revoked key's open stream ends within the re-check interval", async ({ database }) => {
    const keys = createApiKeyRepo(database.pool);
    const { id, key } = await keys.create({ name: "stream to revoke", scopes: ["read"] });
    const stream = await openEventStream(`${base}/v1/alerts/stream`, b.auth(key));
    expect(stream.response.status).toBe(200);
    await new Promise((r) => setTimeout(r, 400));
    expect(stream.isEnded()).toBe(false);
    await keys.revoke(id);
    await waitFor("the stream to end", async () => (stream.isEnded() ? true : undefined), { timeoutMs: 3_000 });
    expect(stream.events.map((e) => e.event).filter(Boolean)).toEqual(["revoked"]);
  });

  test("alert streams are capped per key (429) and per process (503), as problem details", async ({ database }) => {
    const keys = createApiKeyRepo(database.pool);
    const a = (await keys.create({ name: "streams a", scopes: ["read"] })).key;
    const c = (await keys.create({ name: "streams c", scopes: ["read"] })).key;
    const open = [await openEventStream(`${base}/v1/alerts/stream`, b.auth(a)), await openEventStream(`${base}/v1/alerts/stream`, b.auth(a))];
    try {
      expect(open.map((s) => s.response.status)).toEqual([200, 200]);
      const third = await fetch(`${base}/v1/alerts/stream`, { headers: b.auth(a) });
      expect(third.status).toBe(429);
      expect(await third.json()).toMatchObject({ status: 429, detail: expect.stringContaining("API_SSE_STREAMS_PER_KEY") });
      open.push(await openEventStream(`${base}/v1/alerts/stream`, read()));
      expect(open[2]?.response.status).toBe(200);
      const full = await fetch(`${base}/v1/alerts/stream`, { headers: b.auth(c) });
      expect(full.status).toBe(503);
      expect(await full.json()).toMatchObject({ status: 503, detail: expect.stringContaining("API_SSE_STREAMS_TOTAL") });
      // A closed stream gives its place back.
      await open.shift()?.close();
      await waitFor("a free place", async () => {
        const again = await openEventStream(`${base}/v1/alerts/stream`, b.auth(c));
        if (again.response.status === 200) {
          open.push(again);
          return true;
        }
        return undefined;
      }, { timeoutMs: 3_000 });
    } finally {
      await Promise.all(open.map((s) => s.close()));
    }
  });
});
