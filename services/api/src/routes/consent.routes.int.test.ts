import { signUnsubscribeToken } from "@lifecycle/engine";
import { CustomerConsentUpdated } from "@lifecycle/events";
import { describe, expect, readTopic, test } from "@lifecycle/testkit";
import { createApiHarness, type ApiHarness } from "../test-support/api-harness.js";

const SECRET = "consent-test-secret-0123456789-abcdef";

describe("consent over HTTP (issue 11)", () => {
  let h: ApiHarness;
  test.beforeAll(async ({ infra, database }) => {
    h = await createApiHarness({ infra, pool: database.pool, overrides: { unsubscribeSecret: SECRET } });
  });
  test.afterAll(async () => {
    await h.close();
  });

  test("PUT /v1/customers/:id/consent produces a customer.consent.updated event to the customer topic", async () => {
    const res = await h.app.inject({ method: "PUT", url: "/v1/customers/c-consent-1/consent", headers: h.auth(h.keys.ingest), payload: { channel: "email", status: "granted", source: "preference-centre" } });
    expect(res.statusCode).toBe(202);
    const { eventId } = res.json<{ eventId: string }>();
    const [message] = await readTopic(h.kafka, h.topics.customer, 1);
    const event = CustomerConsentUpdated.parse(JSON.parse(message?.value?.toString() ?? "null"));
    expect(event).toMatchObject({ id: eventId, subject: "c-consent-1", data: { channel: "email", status: "granted", source: "preference-centre" } });
    expect(message?.key?.toString()).toBe("c-consent-1");
  });

  test("PUT refuses a bad body with a 400 naming the field, a read key with 403", async () => {
    const bad = await h.app.inject({ method: "PUT", url: "/v1/customers/c-consent-1/consent", headers: h.auth(h.keys.ingest), payload: { channel: "fax", status: "granted" } });
    expect(bad.statusCode).toBe(400);
    expect(JSON.stringify(bad.json())).toContain("channel");
    const suppressedWithoutCause = await h.app.inject({ method: "PUT", url: "/v1/customers/c-consent-1/consent", headers: h.auth(h.keys.ingest), payload: { channel: "email", status: "suppressed", source: "import" } });
    expect(suppressedWithoutCause.statusCode).toBe(400);
    expect(suppressedWithoutCause.json<{ detail: string }>().detail).toMatch(/hard-bounce or complaint/);
    const read = await h.app.inject({ method: "PUT", url: "/v1/customers/c-consent-1/consent", headers: h.auth(h.keys.read), payload: { channel: "email", status: "granted" } });
    expect(read.statusCode).toBe(403);
  });

  test("one-click POST /v1/unsubscribe withdraws consent without a key; a forged or expired link gets 400", async () => {
    const token = signUnsubscribeToken({ customerId: "c-consent-2", channel: "email", expiresAt: new Date(Date.now() + 86_400_000) }, SECRET);
    const page = await h.app.inject({ method: "GET", url: `/v1/unsubscribe?token=${token}` });
    expect(page.statusCode).toBe(200);
    expect(page.headers["content-type"]).toMatch(/text\/html/);
    expect(page.body).toContain('<form method="post"');

    const post = () => h.app.inject({ method: "POST", url: `/v1/unsubscribe?token=${token}`, headers: { "content-type": "application/x-www-form-urlencoded" }, payload: "List-Unsubscribe=One-Click" });
    const first = await post();
    expect(first.statusCode).toBe(200);
    expect(first.json()).toEqual({ status: "unsubscribed", channel: "email" });
    expect((await post()).statusCode).toBe(200);
    const messages = await readTopic(h.kafka, h.topics.customer, 3);
    const withdrawals = messages.map((m) => CustomerConsentUpdated.parse(JSON.parse(m.value?.toString() ?? "null"))).filter((e) => e.subject === "c-consent-2");
    expect(withdrawals).toHaveLength(2);
    // One id for the link: the second click is a duplicate ingest drops.
    expect(new Set(withdrawals.map((e) => e.id)).size).toBe(1);
    expect(withdrawals[0]?.data).toEqual({ channel: "email", status: "withdrawn", source: "one-click-unsubscribe" });

    const forged = await h.app.inject({ method: "POST", url: `/v1/unsubscribe?token=${signUnsubscribeToken({ customerId: "c-consent-2", channel: "email", expiresAt: new Date(Date.now() + 86_400_000) }, "not-the-secret-not-the-secret-000")}` });
    expect(forged.statusCode).toBe(400);
    expect(forged.json<{ detail: string }>().detail).toMatch(/invalid signature/);
    const expired = await h.app.inject({ method: "POST", url: `/v1/unsubscribe?token=${signUnsubscribeToken({ customerId: "c-consent-2", channel: "email", expiresAt: new Date(Date.now() - 1_000) }, SECRET)}` });
    expect(expired.statusCode).toBe(400);
    expect(expired.json<{ detail: string }>().detail).toMatch(/expired/);
  });
});
