import { afterAll } from "vitest";
import { z } from "zod";
import { createOutboxRepo, type Pool } from "@lifecycle/db";
import { CustomerMerged, followUpJobId, type FollowUpJob } from "@lifecycle/events";
import { describe, expect, readTopic, test, uniqueName } from "@lifecycle/testkit";
import { createApiHarness, createTestIngest, ev, purchase, type ApiHarness, type TestIngest } from "../test-support/api-harness.js";

// One customer, several ids (issue 14) through the API: merges produced as events, ids merged
// into another customer answered with a pointer to it, the survivor's aliases and timeline, and
// erasure reaching every id. State is made by the real ingest path (applyEvents).

const NOW = new Date("2025-06-01T00:00:00Z");
const EXACT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

let h: ApiHarness;
let pool: Pool;
let apply: TestIngest;

const path = (id: string, rest = "") => `/v1/customers/${encodeURIComponent(id)}${rest}`;
const get = (url: string, key: string = h.keys.read) => h.app.inject({ method: "GET", url, headers: h.auth(key) });
const merge = (id: string, body: unknown, key: string = h.keys.ingest) =>
  h.app.inject({ method: "POST", url: path(id, "/merge"), headers: body === undefined ? h.auth(key) : { ...h.auth(key), "content-type": "application/json" }, payload: JSON.stringify(body) });

const identified = (subject: string, time: string, ids: string[]) => ev(subject, "customer.identified", time, { ids });
const merged = (subject: string, time: string, mergedIds: string[], reason?: string) => ev(subject, "customer.merged", time, reason === undefined ? { mergedIds } : { mergedIds, reason });

/** A survivor with a purchase, a duplicate customer with one, and purchases sent under an e-mail id; joined by identify and merge events. */
async function joinedCustomer(name: string) {
  const survivor = uniqueName(`${name}-acct`);
  const duplicate = uniqueName(`${name}-dup`);
  const email = `email:${survivor}@example.com`;
  await apply(ev(survivor, "customer.registered", "2025-05-01T10:00:00Z", { email: `${survivor}@example.com`, name: "Ann Example", acquisitionChannel: "ads" }));
  await apply(purchase(survivor, "2025-05-02T10:00:00Z", "10.00"));
  await apply(purchase(duplicate, "2025-05-03T10:00:00Z", "20.00"));
  await apply(ev(email, "purchase.completed", "2025-05-04T10:00:00Z", { orderId: uniqueName("o"), amount: "30.00", currency: "USD", referralCode: "ANN-FRIEND" }));
  await apply(identified(survivor, "2025-05-05T10:00:00Z", [email]));
  await apply(merged(survivor, "2025-05-06T10:00:00Z", [duplicate], "duplicate-profile"));
  return { survivor, duplicate, email };
}

describe("one customer, several ids (issue 14)", () => {
  test.beforeAll(async ({ infra, database }) => {
    pool = database.pool;
    h = await createApiHarness({ infra, pool });
    apply = createTestIngest({ pool, now: NOW });
  });
  afterAll(async () => {
    await h.close();
  });

  describe("POST /v1/customers/:id/merge", () => {
    test("produces a customer.merged event to the customer topic, keyed by the survivor, and answers 202 with its id", async () => {
      const r = await merge("survivor-1", { mergedIds: ["dup-1", "email:ann@example.com"], reason: "duplicate-profile" });
      expect(r.statusCode, r.body).toBe(202);
      const { eventId } = z.object({ eventId: z.string(), status: z.literal("accepted"), customerId: z.literal("survivor-1") }).parse(r.json());
      const [message] = await readTopic(h.kafka, h.topics.customer, 1);
      expect(message?.key?.toString()).toBe("survivor-1");
      const event = CustomerMerged.parse(JSON.parse(message?.value?.toString() ?? "null"));
      expect(event).toMatchObject({ id: eventId, type: "customer.merged", subject: "survivor-1", data: { mergedIds: ["dup-1", "email:ann@example.com"], reason: "duplicate-profile" } });
      // Audited with the count of merged ids, not the ids (an e-mail address is personal).
      const audit = await pool.query("SELECT action, subject, details FROM audit_log WHERE action = 'customer.merged' AND subject = 'survivor-1'");
      expect(audit.rows).toEqual([{ action: "customer.merged", subject: "survivor-1", details: { eventId, merged: 2, reason: "duplicate-profile" } }]);

      // An admin key may too; without a reason the event has none.
      const admin = await merge("survivor-2", { mergedIds: ["dup-2"] }, h.keys.admin);
      expect(admin.statusCode, admin.body).toBe(202);
      const second = (await readTopic(h.kafka, h.topics.customer, 2)).map((m) => CustomerMerged.parse(JSON.parse(m.value?.toString() ?? "null")));
      expect(second.find((e) => e.id === admin.json<{ eventId: string }>().eventId)?.data).toEqual({ mergedIds: ["dup-2"] });
    });

    test("bad bodies are 400 problems saying what is wrong; nothing is produced for them", async () => {
      const many = Array.from({ length: 51 }, (_, i) => `dup-${i}`);
      for (const [body, says] of [
        [{}, "mergedIds"],
        [{ mergedIds: [] }, "mergedIds"],
        [{ mergedIds: many }, "mergedIds"],
        [{ mergedIds: ["dup-a", "dup-a"] }, "distinct"],
        [{ mergedIds: ["dup-a", "survivor-3"] }, "own id"],
        [{ mergedIds: [""] }, "mergedIds"],
        [{ mergedIds: ["x".repeat(129)] }, "mergedIds"],
        [{ mergedIds: [42] }, "mergedIds"],
        [{ mergedIds: "dup-a" }, "mergedIds"],
        [{ mergedIds: ["dup-a"], reason: "" }, "reason"],
        [{ mergedIds: ["dup-a"], survivor: "x" }, "survivor"],
        [undefined, "body"],
      ] as const) {
        const r = await merge("survivor-3", body);
        const what = JSON.stringify(body)?.slice(0, 60) ?? "no body";
        expect(r.statusCode, what).toBe(400);
        expect(r.headers["content-type"], what).toContain("application/problem+json");
        expect(r.json<{ detail: string }>().detail, what).toContain(says);
      }
      // A NUL in an id is refused by the consumer's own checks.
      const nul = await merge("survivor-3", { mergedIds: ["dup\u0000a"] });
      expect(nul.statusCode).toBe(400);
      // One partition: a message produced for a refused body would come before this one.
      expect((await merge("survivor-5", { mergedIds: ["dup-5"] })).statusCode).toBe(202);
      const messages = await readTopic(h.kafka, h.topics.customer, 3);
      expect(messages.map((m) => m.key?.toString())).toEqual(["survivor-1", "survivor-2", "survivor-5"]);
    });

    test("merging into an alias merges into the customer it resolves to", async () => {
      const { survivor, duplicate } = await joinedCustomer("merge-into-alias");
      const r = await merge(duplicate, { mergedIds: ["dup-6"] });
      expect(r.statusCode, r.body).toBe(202);
      expect(r.json()).toMatchObject({ customerId: survivor });
      const messages = (await readTopic(h.kafka, h.topics.customer, 4)).map((m) => ({ key: m.key?.toString(), event: CustomerMerged.parse(JSON.parse(m.value?.toString() ?? "null")) }));
      expect(messages.find((m) => m.event.id === r.json<{ eventId: string }>().eventId)).toMatchObject({ key: survivor, event: { subject: survivor, data: { mergedIds: ["dup-6"] } } });
      // Its customer, or the alias itself, among the merged ids is a merge into itself.
      for (const mergedIds of [[survivor], [duplicate]]) {
        const self = await merge(duplicate, { mergedIds });
        expect(self.statusCode).toBe(400);
        expect(self.json()).toMatchObject({ errors: [{ path: "body.mergedIds", message: expect.stringContaining(`which it was merged into`) }] });
      }
    });

    test("a read key is 403, no key 401", async () => {
      const read = await merge("survivor-4", { mergedIds: ["dup-4"] }, h.keys.read);
      expect(read.statusCode).toBe(403);
      expect(read.json()).toMatchObject({ status: 403, detail: "this API key lacks the 'ingest' scope" });
      expect((await h.app.inject({ method: "POST", url: path("survivor-4", "/merge"), payload: { mergedIds: ["dup-4"] } })).statusCode).toBe(401);
    });
  });

  describe("reading an id merged into another customer", () => {
    test("GET of an alias is a 308 to the survivor with a pointer; the survivor lists its aliases and shows their events", async () => {
      const { survivor, duplicate, email } = await joinedCustomer("read");

      for (const alias of [duplicate, email]) {
        const r = await get(path(alias));
        expect(r.statusCode, r.body).toBe(308);
        expect(r.headers.location).toBe(path(survivor));
        expect(r.headers["content-type"]).toContain("application/json");
        expect(r.json()).toEqual({ id: alias, mergedInto: survivor, mergedAt: expect.stringMatching(EXACT) });
      }
      // The timeline's and follow-ups' own redirects, the query kept.
      const timeline = await get(path(email, "/timeline?limit=5"));
      expect(timeline.statusCode).toBe(308);
      expect(timeline.headers.location).toBe(`${path(survivor, "/timeline")}?limit=5`);
      const followUps = await get(path(duplicate, "/follow-ups"));
      expect(followUps.statusCode).toBe(308);
      expect(followUps.headers.location).toBe(path(survivor, "/follow-ups"));
      // Bad parameters are still a 400, and an id that is nobody's a 404.
      expect((await get(path(email, "/timeline?limit=0"))).statusCode).toBe(400);
      expect((await get(path("email:nobody@example.com"))).statusCode).toBe(404);

      const customer = await get(path(survivor));
      expect(customer.statusCode).toBe(200);
      expect(customer.json()).toMatchObject({ id: survivor, aliases: [duplicate, email].sort(), purchaseCount: 3, revenue: "60.0000" });

      // Events sent under every id, newest first; identity events show counts, never the ids.
      const items = z.object({ items: z.array(z.looseObject({ kind: z.string(), id: z.string(), type: z.string().optional(), data: z.record(z.string(), z.unknown()).optional() })) }).parse(
        (await get(path(survivor, "/timeline?limit=50"))).json(),
      ).items;
      const events = items.filter((i) => i.kind === "event");
      expect(events.map((e) => e.type)).toEqual(["customer.merged", "customer.identified", "purchase.completed", "purchase.completed", "purchase.completed", "customer.registered"]);
      expect(events[0]?.data).toEqual({ reason: "duplicate-profile", mergedCount: 1 });
      expect(events[1]?.data).toEqual({ idCount: 1 });
      const stored = await pool.query<{ subject: string }>("SELECT subject FROM inbox_events WHERE event_id = ANY($1::text[]) ORDER BY event_time", [events.map((e) => e.id)]);
      expect(new Set(stored.rows.map((r) => r.subject))).toEqual(new Set([survivor, duplicate, email]));
      expect(JSON.stringify(items)).not.toContain("@example.com");

      // The survivor's id is percent-encoded in Location like any path parameter.
      const [odd, oddDuplicate] = [uniqueName("acct/ü #1"), uniqueName("odd-dup")];
      await apply(purchase(oddDuplicate, "2025-05-01T10:00:00Z"));
      await apply(merged(odd, "2025-05-02T10:00:00Z", [oddDuplicate]));
      const oddMoved = await get(path(oddDuplicate));
      expect(oddMoved.headers.location).toBe(path(odd));
      expect(oddMoved.headers.location).toContain("%2F%C3%BC%20%231");

      // An ordinary customer has no aliases.
      const plain = uniqueName("plain");
      await apply(purchase(plain, "2025-05-01T10:00:00Z"));
      expect((await get(path(plain))).json()).toMatchObject({ id: plain, aliases: [] });
    });
  });

  describe("erasure", () => {
    test("erasing through an alias erases the customer and every id of it: alias rows, links, subjects and ids in stored events and merge messages", async () => {
      const { survivor, duplicate, email } = await joinedCustomer("erase");
      const ids = [survivor, duplicate, email];
      const mergeMessages = await pool.query("SELECT 1 FROM outbox WHERE kind = 'customer-merged' AND payload->>'subject' = $1", [survivor]);
      expect(mergeMessages.rowCount).toBe(2);
      // Follow-ups under the e-mail id from before the merge name it in their job ids: the thank-you
      // the ingest decided without queueing (its purchase is too old: an outcome, moved to the
      // survivor by the merge), and a referral invitation queued under it (written as the ingest
      // writes it) that a worker had claimed against the marketing cap and for the merge.
      const emailPart = encodeURIComponent(email);
      const thankYou = followUpJobId({ customerId: email, playbook: "thank-you", trigger: "first-purchase" });
      expect(thankYou).toBe(`fu|thank-you|${emailPart}|first-purchase`);
      expect((await pool.query("SELECT customer_id FROM job_outcomes WHERE job_id = $1", [thankYou])).rows).toEqual([{ customer_id: survivor }]);
      const invitation: FollowUpJob = {
        customerId: email, playbook: "referral-invitation", trigger: "repeat", channel: "log", causationId: "e-1",
        triggeredAt: "2025-05-31T10:00:00Z", dueAt: "2025-06-02T10:00:00Z", expiresAt: "2025-06-09T10:00:00Z", priority: 10, context: {},
      };
      const invitationId = followUpJobId(invitation);
      await createOutboxRepo(pool).add([{ kind: "follow-up", dedupeKey: invitationId, payload: invitation, dueAt: new Date(invitation.dueAt) }]);
      await pool.query("INSERT INTO marketing_cap_claims (job_id, customer_id, priority, due_at) VALUES ($1, $2, 10, now())", [invitationId, survivor]);
      await pool.query("INSERT INTO follow_up_claims (customer_id, playbook, trigger, job_id) VALUES ($1, 'referral-invitation', 'repeat', $2)", [survivor, invitationId]);
      // Every job id that names one of the merged ids (the duplicate's follow-ups too), table by table.
      const followUpTables = [
        "SELECT dedupe_key AS job_id, payload::text AS rest FROM outbox WHERE kind = 'follow-up'",
        "SELECT job_id, customer_id AS rest FROM job_outcomes",
        "SELECT job_id, customer_id AS rest FROM marketing_cap_claims",
        "SELECT job_id, customer_id AS rest FROM follow_up_claims",
      ];
      const jobIdsNaming = async (...names: string[]) => {
        const found: string[] = [];
        for (const sql of followUpTables) {
          for (const r of (await pool.query<{ job_id: string; rest: string }>(sql)).rows) {
            if (names.some((name) => [r.job_id, r.rest].some((v) => v.includes(name)))) found.push(r.job_id);
          }
        }
        return found;
      };
      const namingAliases = await jobIdsNaming(emailPart, email, encodeURIComponent(duplicate));
      expect(namingAliases).toEqual(expect.arrayContaining([thankYou, invitationId, invitationId, invitationId]));

      const r = await h.app.inject({ method: "DELETE", url: path(email, "/personal-data"), headers: h.auth(h.keys.admin) });
      expect(r.statusCode, r.body).toBe(200);
      expect(r.json()).toEqual({
        customerId: survivor,
        erasedAt: expect.stringMatching(EXACT),
        erased: {
          customers: 1,
          // The registration, the e-mail id's order's referral code, the identify and the merge event.
          inboxEvents: 4,
          surveyResponses: 0,
          orders: 1,
          followUps: expect.any(Number),
          // Two purchases sent under the merged ids.
          aliasEvents: 2,
          mergeMessages: 2,
          identityLinks: 2,
          aliases: 2,
          // Each row above: the thank-you's outcome, the invitation's outbox row and both claims, the duplicate's.
          aliasJobIds: namingAliases.length,
          queuedJobs: 0,
          runningJobs: 0,
        },
      });

      const count = async (sql: string, params: unknown[]) => (await pool.query<{ n: number }>(sql, params)).rows[0]?.n;
      expect(await count("SELECT count(*)::int AS n FROM customer_aliases WHERE alias_id = ANY($1::text[]) OR customer_id = ANY($1::text[])", [ids])).toBe(0);
      expect(await count("SELECT count(*)::int AS n FROM identity_links WHERE anchor_id = ANY($1::text[]) OR linked_id = ANY($1::text[])", [ids])).toBe(0);
      expect(await count("SELECT count(*)::int AS n FROM inbox_events WHERE subject = ANY($1::text[])", [[duplicate, email]])).toBe(0);
      // Nothing stored names the other ids any more: not the events, not the merge messages.
      expect(await count("SELECT count(*)::int AS n FROM inbox_events WHERE subject = $1", [survivor])).toBe(6);
      expect(await count("SELECT count(*)::int AS n FROM inbox_events WHERE strpos(data::text, $1) > 0 OR strpos(data::text, $2) > 0", [duplicate, `${survivor}@`])).toBe(0);
      const identity = await pool.query<{ type: string; data: unknown }>("SELECT type, data FROM inbox_events WHERE subject = $1 AND type IN ('customer.identified', 'customer.merged') ORDER BY event_time", [survivor]);
      expect(identity.rows).toEqual([
        { type: "customer.identified", data: { ids: ["erased"] } },
        { type: "customer.merged", data: { mergedIds: ["erased"] } },
      ]);
      const messages = await pool.query<{ payload: { subject: string; data: { mergedIds: string[]; ids: string[] } }; gave_up: boolean; last_error: string | null }>(
        "SELECT payload, failed_at IS NOT NULL AS gave_up, last_error FROM outbox WHERE kind = 'customer-merged' AND payload->>'subject' = $1 ORDER BY id",
        [survivor],
      );
      expect(messages.rows.map((m) => ({ subject: m.payload.subject, mergedIds: m.payload.data.mergedIds, ids: m.payload.data.ids, gaveUp: m.gave_up, error: m.last_error }))).toEqual([
        { subject: survivor, mergedIds: ["erased"], ids: ["erased"], gaveUp: true, error: "customer erased" },
        { subject: survivor, mergedIds: ["erased"], ids: ["erased", "erased"], gaveUp: true, error: "customer erased" },
      ]);
      expect(await count("SELECT count(*)::int AS n FROM outbox WHERE kind = 'customer-merged' AND (strpos(payload::text, $1) > 0 OR strpos(payload::text, $2) > 0)", [duplicate, email])).toBe(0);
      // Nor the follow-ups queued under them: their job ids and messages hold a placeholder instead.
      expect(await jobIdsNaming(emailPart, email, encodeURIComponent(duplicate))).toEqual([]);
      const renamed = new Set((await jobIdsNaming("|erased-")));
      // One placeholder for the e-mail id, random, the same wherever its jobs are named.
      const placeholder = /^fu\|referral-invitation\|(erased-[0-9a-f-]{36})\|repeat$/.exec([...renamed].find((id) => id.startsWith("fu|referral-invitation|")) ?? "")?.[1];
      expect(placeholder).toBeDefined();
      expect([...renamed].filter((id) => id.includes(`|${placeholder ?? "none"}|`)).sort()).toEqual([expect.stringMatching(/^fu\|csat-survey\|/), `fu|referral-invitation|${placeholder}|repeat`, `fu|thank-you|${placeholder}|first-purchase`]);
      // As many renamed rows as there were naming the merged ids, none of them the customer's own.
      expect(await jobIdsNaming("|erased-")).toHaveLength(namingAliases.length);
      // The invitation, given up, names the customer.
      expect((await pool.query("SELECT payload->>'customerId' AS c, last_error FROM outbox WHERE dedupe_key = $1", [`fu|referral-invitation|${placeholder}|repeat`])).rows).toEqual([{ c: survivor, last_error: "customer erased" }]);
      // The erasure is recorded and announced under the customer's id.
      expect(await count("SELECT count(*)::int AS n FROM personal_data_erasures WHERE customer_id = $1", [survivor])).toBe(1);
      expect(await count("SELECT count(*)::int AS n FROM personal_data_erasures WHERE customer_id = ANY($1::text[])", [[duplicate, email]])).toBe(0);

      // The customer stays, without aliases; the ids are nobody's now.
      expect((await get(path(survivor))).json()).toMatchObject({ id: survivor, aliases: [], purchaseCount: 3 });
      expect((await get(path(email))).statusCode).toBe(404);
      // A repeat, by either id left, erases nothing more.
      const again = await h.app.inject({ method: "DELETE", url: path(survivor, "/personal-data"), headers: h.auth(h.keys.admin) });
      expect(again.json()).toMatchObject({ customerId: survivor, erased: { customers: 0, inboxEvents: 0, orders: 0, followUps: 0, aliasEvents: 0, mergeMessages: 0, identityLinks: 0, aliases: 0, aliasJobIds: 0 } });
      expect((await h.app.inject({ method: "DELETE", url: path(email, "/personal-data"), headers: h.auth(h.keys.admin) })).statusCode).toBe(404);

      // An event under the erased e-mail id later makes a new, separate customer.
      await apply(purchase(email, "2025-05-20T10:00:00Z", "5.00"));
      expect((await get(path(email))).json()).toMatchObject({ id: email, purchaseCount: 1, aliases: [] });
      expect((await get(path(survivor))).json()).toMatchObject({ purchaseCount: 3 });
    });
  });
});
