import { afterAll } from "vitest";
import { Queue } from "bullmq";
import { createApiKeyRepo } from "@lifecycle/db";
import { createRedisConnection } from "@lifecycle/queue";
import { describe, expect, test, uniqueName, waitFor } from "@lifecycle/testkit";
import { createApiHarness, type ApiHarness } from "../test-support/api-harness.js";

// Issue 12, point 4: keys that expire and rotate with an overlap, and the audit log of admin actions.
describe("key expiry, rotation and the audit log", () => {
  let h: ApiHarness;
  let queue: Queue;
  let redis: ReturnType<typeof createRedisConnection>;
  test.beforeAll(async ({ infra, database }) => {
    redis = createRedisConnection(infra.redis.url, "audit-test");
    queue = new Queue("follow-ups-log", { connection: redis, prefix: uniqueName("audit-q") });
    h = await createApiHarness({ infra, pool: database.pool, overrides: { queues: [queue] } });
  });
  afterAll(async () => {
    await h.close();
    await queue.obliterate({ force: true });
    await queue.close();
    redis.disconnect();
  });
  const metrics = (key: string) => h.app.inject({ url: "/metrics", headers: h.auth(key) });

  test("a key stops working at its expiry, like a revoked one", async ({ database }) => {
    const keys = createApiKeyRepo(database.pool);
    const { key } = await keys.create({ name: "short", scopes: ["read"], expiresAt: new Date(Date.now() + 1_000) });
    expect((await metrics(key)).statusCode).toBe(200);
    await waitFor("the key to expire", async () => ((await metrics(key)).statusCode === 401 ? true : undefined), { timeoutMs: 5_000, intervalMs: 200 });
  });

  test("rotation: both keys work during the overlap, then only the new one; the list shows which replaced which", async ({ database }) => {
    const keys = createApiKeyRepo(database.pool);
    const old = await keys.create({ name: "crm sync", scopes: ["read"] });
    const rotated = await keys.rotate(old.id, { overlapMs: 1_500 });
    if (!rotated) throw new Error("rotation refused a usable key");
    expect((await metrics(old.key)).statusCode).toBe(200);
    expect((await metrics(rotated.key)).statusCode).toBe(200);
    const listed = (await keys.list()).find((k) => k.id === old.id);
    expect(listed).toMatchObject({ name: "crm sync", replacedBy: rotated.id, expiresAt: rotated.oldExpiresAt });
    expect((await keys.list()).find((k) => k.id === rotated.id)).toMatchObject({ name: "crm sync", scopes: ["read"], expiresAt: null });
    await waitFor("the old key to expire", async () => ((await metrics(old.key)).statusCode === 401 ? true : undefined), { timeoutMs: 5_000, intervalMs: 200 });
    expect((await metrics(rotated.key)).statusCode).toBe(200);
    // A key already past its use cannot be rotated again.
    expect(await keys.rotate(old.id, { overlapMs: 1_000 })).toBeUndefined();
  });

  test("consent changes, erasures and queue board actions are in the audit log, which only admin keys read, newest first, in pages", async ({ database }) => {
    const customer = uniqueName("audited");
    const put = await h.app.inject({ method: "PUT", url: `/v1/customers/${customer}/consent`, headers: h.auth(h.keys.ingest), payload: { channel: "email", status: "withdrawn", source: "preference-centre" } });
    expect(put.statusCode).toBe(202);
    const basic = { authorization: `Basic ${Buffer.from(`ops:${h.keys.admin}`).toString("base64")}` };
    expect((await h.app.inject({ method: "PUT", url: "/admin/queues/api/queues/follow-ups-log/pause", headers: basic })).statusCode).toBe(200);
    expect(await queue.isPaused()).toBe(true);

    expect((await h.app.inject({ url: "/v1/audit", headers: h.auth(h.keys.read) })).statusCode).toBe(403);
    const page = await h.app.inject({ url: "/v1/audit?limit=1", headers: h.auth(h.keys.admin) });
    expect(page.statusCode).toBe(200);
    const first = page.json<{ entries: { action: string; actor: string; subject: string; details: Record<string, unknown> }[]; nextBefore: number }>();
    expect(first.entries).toEqual([expect.objectContaining({ action: "queue.action", subject: "follow-ups-log", details: { method: "PUT", path: "/api/queues/follow-ups-log/pause" } })]);
    expect(first.entries[0]?.actor).toMatch(/^key:[0-9a-f]{12}$/);
    const next = await h.app.inject({ url: `/v1/audit?limit=1&before=${first.nextBefore}`, headers: h.auth(h.keys.admin) });
    expect(next.json<{ entries: unknown[] }>().entries).toEqual([
      expect.objectContaining({ action: "consent.changed", subject: customer, details: expect.objectContaining({ channel: "email", status: "withdrawn", source: "preference-centre" }) }),
    ]);
    // An erasure (of a customer the consent event has not reached: ingest is not running here) is a 404, not audited;
    // one of a known customer is.
    await database.pool.query("INSERT INTO customers (customer_id, email, first_seen_at, last_event_at) VALUES ($1, 'gone@example.com', now(), now())", [`${customer}-known`]);
    expect((await h.app.inject({ method: "DELETE", url: `/v1/customers/${customer}/personal-data`, headers: h.auth(h.keys.admin) })).statusCode).toBe(404);
    expect((await h.app.inject({ method: "DELETE", url: `/v1/customers/${customer}-known/personal-data`, headers: h.auth(h.keys.admin) })).statusCode).toBe(200);
    const erased = await h.app.inject({ url: "/v1/audit?action=customer.erased", headers: h.auth(h.keys.admin) });
    expect(erased.json<{ entries: unknown[] }>().entries).toEqual([expect.objectContaining({ action: "customer.erased", subject: `${customer}-known`, details: { erased: expect.objectContaining({ customers: 1 }) } })]);
    expect(erased.body).not.toContain("gone@example.com");
    const onlyConsent = await h.app.inject({ url: "/v1/audit?action=consent.changed", headers: h.auth(h.keys.admin) });
    expect(onlyConsent.json<{ entries: { action: string }[] }>().entries.every((e) => e.action === "consent.changed")).toBe(true);
    expect((await h.app.inject({ url: "/v1/audit?action=nope", headers: h.auth(h.keys.admin) })).statusCode).toBe(400);
  });
});
