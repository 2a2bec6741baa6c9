import { randomUUID } from "node:crypto";
import { afterAll } from "vitest";
import { z } from "zod";
import { createJobOutcomeRepo, type Pool } from "@lifecycle/db";
import { describe, expect, test, uniqueName, waitFor } from "@lifecycle/testkit";
import { createApiHarness, createTestIngest, ev, purchase, type ApiHarness, type TestIngest } from "../test-support/api-harness.js";

// The customer routes against the real database: state is made by applying real events through
// the ingest handler (as Kafka would deliver them), at a fixed engine clock.

const NOW = new Date("2025-06-01T00:00:00Z");
const EXACT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

let h: ApiHarness;
let pool: Pool;
/** Applies the events as one ingest batch (one transaction). */
let apply: TestIngest;

const get = (url: string, key: string = h.keys.read) => h.app.inject({ method: "GET", url, headers: h.auth(key) });
const path = (id: string, rest = "") => `/v1/customers/${encodeURIComponent(id)}${rest}`;

const PageBody = z.object({
  items: z.array(z.looseObject({ id: z.string(), updatedAt: z.string(), stage: z.string().nullable() })),
  nextCursor: z.string().nullable(),
});
const Page = (body: unknown) => PageBody.parse(body);

describe("customer routes", () => {
  test.beforeAll(async ({ infra, database }) => {
    pool = database.pool;
    h = await createApiHarness({ infra, pool });
    apply = createTestIngest({ pool, now: NOW });
  });
  afterAll(async () => {
    await h.close();
  });

  describe("GET /v1/customers/:id", () => {
    test("returns stage, CLV, purchases, latest scores, health and tickets, without personal data", async () => {
      const id = uniqueName("full");
      // One batch per event: each evaluation can record its own stage change.
      for (const e of [
        ev(id, "customer.registered", "2025-05-01T10:00:00Z", { email: "ada@example.com", name: "Ada Lovelace", acquisitionChannel: "ads", acquisitionCost: "20", birthday: "1990-02-28" }),
        purchase(id, "2025-05-02T10:00:00Z", "10.00"),
        purchase(id, "2025-05-10T10:00:00Z", "15.50"),
        ev(id, "survey.responded", "2025-05-12T10:00:00Z", { kind: "nps", score: 9, comment: "Ada loves it" }),
        ev(id, "survey.responded", "2025-05-13T10:00:00Z", { kind: "csat", score: 4 }),
      ])
        await apply(e);
      // Opened and answered in one batch: evaluated apart, the ticket would count as unanswered at the clock.
      await apply(ev(id, "ticket.opened", "2025-05-14T10:00:00Z", { ticketId: "t1", channel: "chat" }), ev(id, "ticket.responded", "2025-05-14T10:30:00Z", { ticketId: "t1", by: "agent" }));
      const orderId = "o-refunded";
      await apply(ev(id, "purchase.completed", "2025-05-15T10:00:00Z", { orderId, amount: "5.0000", currency: "USD" }));
      await apply(ev(id, "purchase.refunded", "2025-05-16T10:00:00Z", { orderId, amount: "2.5", currency: "USD" }));

      const r = await get(path(id));
      expect(r.statusCode).toBe(200);
      const body: unknown = r.json();
      expect(body).toEqual({
        id,
        stage: "repeat",
        stageReason: "repeat-purchase",
        stageSince: "2025-05-10T10:00:00.000000Z",
        clv: {
          historical: "28.0000",
          predicted: null,
          pAlive: null,
          expectedPurchases: null,
          expectedSpend: null,
          simple: expect.stringMatching(/^\d+\.\d{4}$/),
          profit: expect.stringMatching(/^-?\d+\.\d{4}$/),
          clvCacRatio: expect.any(Number),
          // No year of stage history to measure churn on: the configured lifespan.
          lifespanYears: 3,
          lifespanSource: "setting",
        },
        purchaseCount: 3,
        firstPurchaseAt: "2025-05-02T10:00:00.000000Z",
        lastPurchaseAt: "2025-05-15T10:00:00.000000Z",
        revenue: "30.5000",
        refunded: "2.5000",
        latest: { nps: { score: 9, at: "2025-05-12T10:00:00.000000Z" }, csat: { score: 4, at: "2025-05-13T10:00:00.000000Z" }, ces: null },
        health: {
          score: expect.any(Number),
          components: {
            recency: { value: expect.any(Number), weight: expect.any(Number), basis: "16 days since the last purchase" },
            frequency: expect.objectContaining({ basis: "3 purchases" }),
            monetary: expect.any(Object),
            sentiment: expect.objectContaining({ basis: "NPS 9, CSAT 4" }),
            support: expect.objectContaining({ basis: "1 open tickets, 0 past the response target" }),
          },
        },
        openTickets: 1,
        acquisitionChannel: "ads",
        registeredAt: "2025-05-01T10:00:00.000000Z",
        updatedAt: expect.stringMatching(EXACT),
        aliases: [],
      });
      expect(r.body).not.toMatch(/ada@example\.com|Lovelace|1990-02-28|loves/);
    });

    test("percent-encoded ids of free text work, for every route", async () => {
      const id = `acme/ü 42?#&%_' OR 1=1 --`;
      await apply(ev(id, "customer.registered", "2025-05-01T10:00:00Z", {}));
      expect((await get(path(id))).json()).toMatchObject({ id, stage: "prospect" });
      expect((await get(path(id, "/timeline"))).json()).toMatchObject({ items: [{ kind: "stage-change", to: "prospect" }, { kind: "event", type: "customer.registered" }] });
      const erased = await h.app.inject({ method: "DELETE", url: path(id, "/personal-data"), headers: h.auth(h.keys.admin) });
      expect(erased.json()).toMatchObject({ customerId: id });
    });

    test("an unknown id is a 404 problem", async () => {
      const r = await get(path("nobody-here"));
      expect(r.statusCode).toBe(404);
      expect(r.headers["content-type"]).toContain("application/problem+json");
      expect(r.json()).toMatchObject({ status: 404, title: "Not Found", detail: 'no customer with id "nobody-here"' });
    });

    test("ids up to 100 characters are served; longer ids are refused with a 4xx, never a 500", async () => {
      const id = "x".repeat(100);
      await apply(ev(id, "customer.registered", "2025-05-01T10:00:00Z", {}));
      expect((await get(path(id))).json()).toMatchObject({ id });
      for (const long of ["y".repeat(129), "z".repeat(10_000)]) {
        const r = await get(path(long));
        expect(r.statusCode).toBeGreaterThanOrEqual(400);
        expect(r.statusCode).toBeLessThan(500);
      }
    });

    // Fastify's router refuses path parameters over 100 characters by default; app.ts raises it.
    test("a 128-character id (the contract's maximum) is served, and 129 characters are a 400 naming the id", async () => {
      const id = "m".repeat(128);
      await apply(ev(id, "customer.registered", "2025-05-01T10:00:00Z", {}));
      expect((await get(path(id))).json()).toMatchObject({ id });
      const tooLong = await get(path(`${id}m`));
      expect(tooLong.statusCode).toBe(400);
      expect(tooLong.json()).toMatchObject({ detail: expect.stringContaining("params.id") });
    });
  });

  describe("GET /v1/customers/:id/timeline", () => {
    test("stage changes and events merged newest first, paged by cursor, event data without personal data", async () => {
      const id = uniqueName("timeline");
      for (const e of [
        ev(id, "customer.registered", "2025-05-01T10:00:00Z", { email: "tim@example.com", name: "Tim", acquisitionChannel: "ads", referredBy: "friend-1" }),
        purchase(id, "2025-05-02T10:00:00Z"),
        ev(id, "survey.responded", "2025-05-03T10:00:00Z", { kind: "nps", score: 10, comment: "Tim says hi" }),
        purchase(id, "2025-05-04T10:00:00Z"),
      ])
        await apply(e);

      const items: { kind: string; at?: string; time?: string; to?: string; type?: string; data?: object }[] = [];
      let before: string | null = null;
      let pages = 0;
      do {
        const r = await get(path(id, `/timeline?limit=2${before ? `&before=${before}` : ""}`));
        expect(r.statusCode).toBe(200);
        const body = r.json<{ items: typeof items; nextCursor: string | null }>();
        expect(body.items.length).toBeLessThanOrEqual(2);
        items.push(...body.items);
        before = body.nextCursor;
        pages++;
      } while (before && pages < 10);

      expect(items.map((i) => (i.kind === "stage-change" ? `→${i.to} ${i.at}` : `${i.type} ${i.time}`))).toEqual([
        "→repeat 2025-05-04T10:00:00.000000Z",
        "purchase.completed 2025-05-04T10:00:00.000000Z",
        "survey.responded 2025-05-03T10:00:00.000000Z",
        "→new 2025-05-02T10:00:00.000000Z",
        "purchase.completed 2025-05-02T10:00:00.000000Z",
        "→prospect 2025-05-01T10:00:00.000000Z",
        "customer.registered 2025-05-01T10:00:00.000000Z",
      ]);
      expect(pages).toBe(4);
      expect(items[0]).toMatchObject({ kind: "stage-change", from: "new", to: "repeat", reason: "repeat-purchase", id: expect.stringMatching(/^stage-changed-\d+$/), recordedAt: expect.stringMatching(EXACT) });
      expect(items.find((i) => i.type === "customer.registered")?.data).toEqual({ acquisitionChannel: "ads", referred: true });
      expect(items.find((i) => i.type === "survey.responded")?.data).toEqual({ kind: "nps", score: 10, hasComment: true });
      expect(items.find((i) => i.type === "purchase.completed")?.data).toMatchObject({ amount: "10.00", currency: "USD", itemCount: 0, referred: false });
      expect(JSON.stringify(items)).not.toMatch(/tim@example|"Tim"|says hi|friend-1/);

      // `before` may also be an instant: only items strictly before it.
      const r = await get(path(id, `/timeline?before=${encodeURIComponent("2025-05-02T12:00:00+02:00")}`));
      expect(r.json<{ items: { kind: string }[] }>().items.map((i) => i.kind)).toEqual(["stage-change", "event"]);
    });

    test("bad parameters are 400s naming the parameter; an unknown customer is a 404", async () => {
      const id = uniqueName("tl-bad");
      await apply(ev(id, "customer.registered", "2025-05-01T10:00:00Z", {}));
      for (const [query, param] of [
        ["limit=0", "limit"],
        ["limit=201", "limit"],
        ["limit=ten", "limit"],
        ["before=yesterday", "before"],
        ["before=2025-02-30T00:00:00Z", "before"],
        [`before=${Buffer.from(JSON.stringify(["2025-13-01T00:00:00.000000Z", 1, "x"])).toString("base64url")}`, "before"],
        [`before=${encodeURIComponent("' OR 1=1 --")}`, "before"],
        ["after=x", "after"],
      ]) {
        const r = await get(path(id, `/timeline?${query}`));
        expect(r.statusCode, query).toBe(400);
        expect(r.json<{ detail: string }>().detail, query).toContain(param);
      }
      expect((await get(path("no-such-customer", "/timeline"))).statusCode).toBe(404);
    });
  });

  describe("GET /v1/customers/:id/follow-ups", () => {
    test("lists the customer's follow-up outcomes, newest first; 404 for an unknown customer; 401 without a key", async ({ database }) => {
      await apply(ev("fu-1", "purchase.completed", "2025-05-01T10:00:00Z", { orderId: "o", amount: "5", currency: "USD" }));
      const outcomes = createJobOutcomeRepo(database.pool);
      await outcomes.record({ jobId: "fu|thank-you|fu-1|first-purchase", queue: "follow-ups-log", jobName: "follow-up", customerId: "fu-1", status: "sent", detail: "logged thank-you for fu-1", attempts: 1 });
      await new Promise((r) => setTimeout(r, 5));
      await outcomes.record({ jobId: "fu|win-back-at-risk|fu-1|at-risk-x", queue: "follow-ups-email", jobName: "follow-up", customerId: "fu-1", status: "skipped", detail: "no longer at-risk (now repeat)", attempts: 1 });
      const r = await get(path("fu-1", "/follow-ups"));
      expect(r.statusCode).toBe(200);
      const { items } = z.object({ items: z.array(z.object({ playbook: z.string(), channel: z.string(), status: z.string(), detail: z.string() })) }).parse(r.json());
      expect(items.map((o) => [o.playbook, o.channel, o.status, o.detail])).toEqual([
        ["win-back-at-risk", "email", "skipped", "no longer at-risk (now repeat)"],
        ["thank-you", "log", "sent", "logged thank-you for fu-1"],
        // Already expired when its purchase was recorded: skipped at once, never queued.
        ["csat-survey", "log", "skipped", "expired: due 2025-05-04T10:00:00.000Z, checked 2025-06-01T00:00:00.000Z"],
      ]);
      expect((await get(path("nobody-here", "/follow-ups"))).statusCode).toBe(404);
      expect((await h.app.inject({ url: path("fu-1", "/follow-ups") })).statusCode).toBe(401);
    });
  });

  describe("GET /v1/customers", () => {
    test("filters by stage and updatedSince, every item a full customer", async () => {
      const id = uniqueName("repeat-buyer");
      await apply(purchase(id, "2025-05-01T10:00:00Z"), purchase(id, "2025-05-08T10:00:00Z"));
      const all = await pageThrough("/v1/customers?stage=repeat&limit=500");
      expect(all.length).toBeGreaterThan(0);
      expect(all.every((c) => c.stage === "repeat")).toBe(true);
      expect(all.map((c) => c.id)).toContain(id);
      const mine = all.find((c) => c.id === id);
      expect(mine).toMatchObject({ purchaseCount: 2, revenue: "20.0000", updatedAt: expect.stringMatching(EXACT) });

      // updatedSince is inclusive, to the microsecond, in any zone.
      const since = mine?.updatedAt ?? "";
      const fromMine = await pageThrough(`/v1/customers?updatedSince=${encodeURIComponent(since)}`);
      expect(fromMine[0]?.id).toBe(id);
      expect(fromMine.every((c) => c.updatedAt >= since)).toBe(true);
      expect(await pageThrough(`/v1/customers?updatedSince=${encodeURIComponent("2999-01-01T02:00:00+02:00")}`)).toEqual([]);
      const empty = Page((await get("/v1/customers?stage=churned")).json());
      expect(empty.nextCursor).toBeNull();
    });

    test("bad parameters are 400 problems naming the parameter", async () => {
      const cursorOf = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
      for (const [query, param] of [
        ["limit=0", "limit"],
        ["limit=501", "limit"],
        ["limit=1.5", "limit"],
        ["limit=abc", "limit"],
        ["limit=1&limit=2", "limit"],
        ["cursor=!!!", "cursor"],
        [`cursor=${cursorOf("hello")}`, "cursor"],
        [`cursor=${cursorOf(["2025-13-01T00:00:00.000000Z", "x"])}`, "cursor"],
        [`cursor=${cursorOf(["2025-01-01T00:00:00Z", "x"])}`, "cursor"],
        [`cursor=${cursorOf(["2025-01-01T00:00:00.000000Z", ""])}`, "cursor"],
        [`cursor=${"A".repeat(5_000)}`, "cursor"],
        ["stage=vip", "stage"],
        [`stage=${encodeURIComponent("' OR 1=1 --")}`, "stage"],
        ["updatedSince=yesterday", "updatedSince"],
        ["updatedSince=2025-02-30T00:00:00Z", "updatedSince"],
        ["updatedSince=0000-01-01T00:00:00Z", "updatedSince"],
        ["updatedSince=2025-01-01T00:00:00", "updatedSince"],
        [`updatedSince=${encodeURIComponent("2025-01-01T00:00:00Z' OR 1=1 --")}`, "updatedSince"],
        ["updated_since=2025-01-01T00:00:00Z", "updated_since"],
      ]) {
        const r = await get(`/v1/customers?${query}`);
        expect(r.statusCode, query).toBe(400);
        expect(r.headers["content-type"], query).toContain("application/problem+json");
        expect(r.json<{ detail: string }>().detail, query).toContain(param);
      }
    });

    test("paging is stable while customers change underneath: none skipped, order strictly increasing", async () => {
      const prefix = uniqueName("page");
      for (let i = 0; i < 12; i++) await apply(purchase(`${prefix}-${String(i).padStart(2, "0")}`, "2025-05-01T10:00:00Z"));

      const seen: { id: string; updatedAt: string }[] = [];
      const updated = new Set<string>();
      let cursor: string | null = null;
      for (let page = 0; page < 100; page++) {
        const body = Page((await get(`/v1/customers?limit=5${cursor ? `&cursor=${cursor}` : ""}`)).json());
        seen.push(...body.items.map(({ id, updatedAt }) => ({ id, updatedAt })));
        cursor = body.nextCursor;
        if (!cursor) break;
        // Between pages: a customer already seen and one not seen yet buy again, one is new.
        const seenIds = new Set(seen.map((s) => s.id));
        const unseen = (await pool.query<{ customer_id: string }>("SELECT customer_id FROM customers ORDER BY updated_at, customer_id")).rows.find((r) => !seenIds.has(r.customer_id) && !updated.has(r.customer_id));
        const again = seen.find((s) => !updated.has(s.id));
        const changes = [again?.id, unseen?.customer_id].filter((x) => x !== undefined);
        if (page < 3) changes.push(`${prefix}-new-${page}`);
        for (const c of changes) {
          updated.add(c);
          await apply(purchase(c, "2025-05-20T10:00:00Z"));
        }
      }
      expect(cursor).toBeNull();

      // Strictly increasing (updatedAt, id): a changed customer moved to the end, nothing went back.
      for (let i = 1; i < seen.length; i++) {
        const [a, b] = [seen[i - 1], seen[i]];
        expect(a && b && (a.updatedAt < b.updatedAt || (a.updatedAt === b.updatedAt && a.id < b.id)), `${a?.id} before ${b?.id}`).toBe(true);
      }
      // Nobody skipped: every customer now in the database was served with its current updatedAt.
      const now = (await pool.query<{ customer_id: string; updated_at: string }>(
        `SELECT customer_id, to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS updated_at FROM customers`,
      )).rows;
      const served = new Set(seen.map((s) => `${s.id}@${s.updatedAt}`));
      expect(now.filter((r) => !served.has(`${r.customer_id}@${r.updated_at}`))).toEqual([]);
      // Only changed customers come twice.
      const twice = [...new Set(seen.map((s) => s.id).filter((id, i, all) => all.indexOf(id) !== i))];
      expect(twice.length).toBeGreaterThan(0);
      expect(twice.every((id) => updated.has(id))).toBe(true);
    });

    test("a change still being written is held back until it commits, so a later page cannot miss it", async () => {
      const [x, y] = [uniqueName("slow"), uniqueName("fast")];
      await apply(purchase(x, "2025-05-01T10:00:00Z"), purchase(y, "2025-05-01T10:00:00Z"));
      const synced = await pageThrough("/v1/customers?limit=500");
      const mark = synced.at(-1)?.updatedAt ?? "";

      // Another session holds x's row: an ingest batch for x starts (its updated_at is stamped
      // with its start time) and waits; meanwhile a batch for y starts later and commits first.
      const blocker = await pool.connect();
      try {
        await blocker.query("BEGIN");
        await blocker.query("SELECT 1 FROM customers WHERE customer_id = $1 FOR UPDATE", [x]);
        const slow = apply(purchase(x, "2025-05-21T10:00:00Z"));
        await waitFor("the batch for x to wait for the row lock", async () => {
          const r = await pool.query("SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'");
          return r.rowCount ? true : undefined;
        });
        await apply(purchase(y, "2025-05-21T10:00:00Z"));

        // y is committed, but stamped after a transaction still open: not served yet.
        const during = await pageThrough(`/v1/customers?updatedSince=${encodeURIComponent(mark)}`);
        expect(during.map((c) => c.id)).not.toContain(y);

        await blocker.query("COMMIT");
        await slow;
      } finally {
        blocker.release();
      }
      const after = await pageThrough(`/v1/customers?updatedSince=${encodeURIComponent(mark)}`);
      const [sx, sy] = [after.find((c) => c.id === x), after.find((c) => c.id === y)];
      // x committed last but carries the earlier stamp: had y been served above, x was skipped.
      expect(sx && sy && sx.updatedAt < sy.updatedAt).toBe(true);
      expect(after.map((c) => c.id).filter((id) => id === x || id === y)).toEqual([x, y]);
    });
  });

  describe("DELETE /v1/customers/:id/personal-data", () => {
    test("erases the personal data everywhere, keeps the aggregates, records the erasure; a repeat erases nothing more", async () => {
      const [id, other] = [uniqueName("erase"), uniqueName("keep")];
      const registration = (subject: string) =>
        ev(subject, "customer.registered", "2025-05-01T10:00:00Z", { email: `${subject}@example.com`, name: "Eve Example", acquisitionChannel: "referral", acquisitionCost: "5", referredBy: "friend-7", birthday: "1991-07-04" });
      for (const subject of [id, other]) {
        await apply(registration(subject));
        await apply(ev(subject, "purchase.completed", "2025-05-02T10:00:00Z", { orderId: `o-${randomUUID()}`, amount: "40.00", currency: "USD", referralCode: "EVE-FRIEND-7" }));
        await apply(ev(subject, "survey.responded", "2025-05-03T10:00:00Z", { kind: "nps", score: 3, comment: "Eve's private note" }));
        await apply(ev(subject, "survey.responded", "2025-05-04T10:00:00Z", { kind: "csat", score: 5 }));
        await apply(ev(subject, "customer.cancelled", "2025-05-05T10:00:00Z", { reason: "Eve moves to the coast" }));
      }
      const before = (await get(path(id))).json<unknown>();
      const otherBefore = await piiOf(other);

      const r = await h.app.inject({ method: "DELETE", url: path(id, "/personal-data"), headers: h.auth(h.keys.admin) });
      expect(r.statusCode).toBe(200);
      expect(r.json()).toEqual({
        customerId: id,
        erasedAt: expect.stringMatching(EXACT),
        erased: { customers: 1, inboxEvents: 4, surveyResponses: 1, orders: 1, followUps: 2, aliasEvents: 0, mergeMessages: 0, identityLinks: 0, aliases: 0, aliasJobIds: 0, queuedJobs: 0, runningJobs: 0 },
      });

      expect(await piiOf(id)).toEqual({
        customer: { email: null, name: null, birthday: null, referred_by: null, cancel_reason: null },
        registrations: [{ acquisitionChannel: "referral", acquisitionCost: "5" }],
        surveyData: [{ kind: "nps", score: 3 }, { kind: "csat", score: 5 }],
        comments: [null, null],
        cancellations: [{}],
        // That the order came by referral stays (the referral rate); the code does not.
        referralCodes: { orders: ["erased"], events: ["erased"] },
        // The birthday gift (and the win-back after the cancellation) had not run: given up, so no relay or reconciliation sends them.
        followUps: [{ context: expect.not.objectContaining({ birthday: expect.anything() }), gaveUp: true, error: "customer erased" }],
      });
      // CRMs are told, through the outbox (relayed to lifecycle-stage-changed), by id only.
      const announced = await pool.query<{ payload: { type: string; subject: string; data: unknown } }>("SELECT payload FROM outbox WHERE kind = 'customer-erased' AND payload->>'subject' = $1", [id]);
      expect(announced.rows.map((r) => r.payload)).toEqual([expect.objectContaining({ type: "lifecycle.customer.erased", subject: id, data: { erasedAt: r.json<{ erasedAt: string }>().erasedAt } })]);
      // Aggregates and what the API shows are untouched, updatedAt included; others keep theirs.
      expect((await get(path(id))).json()).toEqual(before);
      const kept = await pool.query("SELECT count(*)::int AS orders, sum(amount)::text AS amount FROM orders WHERE customer_id = $1", [id]);
      expect(kept.rows).toEqual([{ orders: 1, amount: "40.0000" }]);
      expect(await piiOf(other)).toEqual(otherBefore);
      expect(otherBefore.customer?.email).toBe(`${other}@example.com`);

      const again = await h.app.inject({ method: "DELETE", url: path(id, "/personal-data"), headers: h.auth(h.keys.admin) });
      expect(again.statusCode).toBe(200);
      expect(again.json()).toMatchObject({
        erased: { customers: 0, inboxEvents: 0, surveyResponses: 0, orders: 0, followUps: 0, aliasEvents: 0, mergeMessages: 0, identityLinks: 0, aliases: 0, aliasJobIds: 0, queuedJobs: 0, runningJobs: 0 },
      });

      const adminKeyId = h.keys.admin.split("_")[1];
      const log = await pool.query("SELECT api_key_id, erased FROM personal_data_erasures WHERE customer_id = $1 ORDER BY id", [id]);
      expect(log.rows).toEqual([
        { api_key_id: adminKeyId, erased: { customers: 1, inboxEvents: 4, surveyResponses: 1, orders: 1, followUps: 2, aliasEvents: 0, mergeMessages: 0, identityLinks: 0, aliases: 0, aliasJobIds: 0 } },
        { api_key_id: adminKeyId, erased: { customers: 0, inboxEvents: 0, surveyResponses: 0, orders: 0, followUps: 0, aliasEvents: 0, mergeMessages: 0, identityLinks: 0, aliases: 0, aliasJobIds: 0 } },
      ]);
    });

    test("an unknown customer is a 404 and nothing is recorded", async () => {
      const id = `' OR 1=1 --`;
      const r = await h.app.inject({ method: "DELETE", url: path(id, "/personal-data"), headers: h.auth(h.keys.admin) });
      expect(r.statusCode).toBe(404);
      expect((await pool.query("SELECT 1 FROM personal_data_erasures WHERE customer_id = $1", [id])).rowCount).toBe(0);
    });
  });

  describe("keys and scopes", () => {
    test("no key is 401; an ingest key on a read route and a read key on the erasure are 403; admin may do all", async () => {
      const id = uniqueName("scoped");
      await apply(ev(id, "customer.registered", "2025-05-01T10:00:00Z", {}));
      const reads = [path(id), path(id, "/timeline"), "/v1/customers"];
      for (const url of reads) {
        expect((await h.app.inject({ url })).statusCode, url).toBe(401);
        expect((await get(url, h.keys.ingest)).statusCode, url).toBe(403);
        expect((await get(url, h.keys.read)).statusCode, url).toBe(200);
        expect((await get(url, h.keys.admin)).statusCode, url).toBe(200);
      }
      const erase = (key?: string) => h.app.inject({ method: "DELETE", url: path(id, "/personal-data"), headers: key ? h.auth(key) : {} });
      expect((await erase()).statusCode).toBe(401);
      expect((await erase(h.keys.read)).statusCode).toBe(403);
      expect((await erase(h.keys.ingest)).statusCode).toBe(403);
      const forbidden = await erase(h.keys.read);
      expect(forbidden.json()).toMatchObject({ status: 403, detail: "this API key lacks the 'admin' scope" });
      expect((await erase(h.keys.admin)).statusCode).toBe(200);
    });
  });

  test("the routes are in the OpenAPI document with their parameters, responses and key requirement", async () => {
    const r = await h.app.inject({ url: "/docs/json", headers: h.auth(h.keys.read) });
    expect(r.statusCode).toBe(200);
    const Operation = z.looseObject({ parameters: z.array(z.looseObject({ name: z.string(), in: z.string() })).optional(), security: z.array(z.unknown()).optional(), responses: z.record(z.string(), z.unknown()) });
    const doc = z.looseObject({ paths: z.record(z.string(), z.record(z.string(), Operation)) }).parse(r.json());
    const op = (p: string, method: string) => doc.paths[p]?.[method];
    expect(op("/v1/customers", "get")?.parameters?.map((p) => `${p.in}:${p.name}`)).toEqual(["query:stage", "query:updatedSince", "query:cursor", "query:limit"]);
    expect(op("/v1/customers/{id}/timeline", "get")?.parameters?.map((p) => `${p.in}:${p.name}`)).toEqual(["query:limit", "query:before", "path:id"]);
    for (const [p, method] of [["/v1/customers/{id}", "get"], ["/v1/customers/{id}/personal-data", "delete"]] as const) {
      expect(op(p, method)?.security).toEqual([{ apiKey: [] }]);
      expect(Object.keys(op(p, method)?.responses ?? {})).toEqual(expect.arrayContaining(["200", "400", "401", "403", "404"]));
    }
  });

  describe("injection-shaped input", () => {
    test("quotes, LIKE wildcards and long strings are data: a 400 or a 404/empty answer, never a 500", async () => {
      const inputs = ["' OR 1=1 --", "%", "_", "%%", "a%", "\\", "'; DROP TABLE customers; --", "\u0000", "é".repeat(100), "x".repeat(4_000)];
      for (const input of inputs) {
        for (const url of [path(input), path(input, "/timeline")]) {
          const r = await get(url);
          expect([400, 404, 414], `${url.slice(0, 60)} → ${r.statusCode}`).toContain(r.statusCode);
        }
        const erase = await h.app.inject({ method: "DELETE", url: path(input, "/personal-data"), headers: h.auth(h.keys.admin) });
        expect([400, 404, 414]).toContain(erase.statusCode);
        for (const param of ["stage", "updatedSince", "cursor", "limit"]) {
          const r = await get(`/v1/customers?${param}=${encodeURIComponent(input)}`);
          expect(r.statusCode, `${param}=${input.slice(0, 20)}`).toBe(400);
        }
      }
      // Still there, and nothing was written for the unknown ids.
      expect((await pool.query("SELECT 1 FROM customers LIMIT 1")).rowCount).toBe(1);
      expect((await pool.query("SELECT 1 FROM personal_data_erasures WHERE customer_id = ANY($1::text[])", [inputs.filter((i) => !i.includes("\u0000"))])).rowCount).toBe(0);
    });
  });
});

async function pageThrough(url: string) {
  const items: z.infer<typeof PageBody>["items"] = [];
  let cursor: string | null = null;
  for (let i = 0; i < 1_000; i++) {
    const r = await get(cursor ? `${url}${url.includes("?") ? "&" : "?"}cursor=${cursor}` : url);
    expect(r.statusCode, r.body).toBe(200);
    const body = Page(r.json());
    items.push(...body.items);
    cursor = body.nextCursor;
    if (!cursor) return items;
  }
  throw new Error("paging did not end");
}

/** Every place a customer's personal data could be, read straight from the tables. */
async function piiOf(id: string) {
  const values = async (sql: string) => (await pool.query<{ v: unknown }>(sql, [id])).rows.map((r) => r.v);
  const customer = await pool.query<{ email: string | null; name: string | null; birthday: string | null; referred_by: string | null; cancel_reason: string | null }>(
    "SELECT email, name, to_char(birthday, 'YYYY-MM-DD') AS birthday, referred_by, cancel_reason FROM customers WHERE customer_id = $1",
    [id],
  );
  return {
    customer: customer.rows[0],
    registrations: await values("SELECT data AS v FROM inbox_events WHERE subject = $1 AND type = 'customer.registered' ORDER BY event_time"),
    surveyData: await values("SELECT data AS v FROM inbox_events WHERE subject = $1 AND type = 'survey.responded' ORDER BY event_time"),
    comments: await values("SELECT comment AS v FROM survey_responses WHERE customer_id = $1 ORDER BY event_time"),
    cancellations: await values("SELECT data AS v FROM inbox_events WHERE subject = $1 AND type = 'customer.cancelled' ORDER BY event_time"),
    referralCodes: {
      orders: await values("SELECT referral_code AS v FROM orders WHERE customer_id = $1"),
      events: await values("SELECT data->>'referralCode' AS v FROM inbox_events WHERE subject = $1 AND type = 'purchase.completed'"),
    },
    followUps: await values(
      "SELECT jsonb_build_object('context', payload->'context', 'gaveUp', failed_at IS NOT NULL, 'error', last_error) AS v FROM outbox WHERE kind = 'follow-up' AND payload->>'customerId' = $1 AND payload->>'playbook' = 'birthday-gift'",
    ),
  };
}
