import fc from "fast-check";
import { afterAll } from "vitest";
import { z } from "zod";
import { arbitraryEvent, arbitraryNearValidEvent } from "@lifecycle/events/arbitraries";
import { describe, expect, test } from "@lifecycle/testkit";
import { createApiHarness, type ApiHarness } from "./test-support/api-harness.js";
import { anyText, expectWellAnswered, timedInject, type Answer } from "./test-support/http-fuzz.js";

// POST /v1/events with an ingest key and whatever a client could send: JSON values, near-valid
// CloudEvents, batches mixing both, other content types, raw bytes. Never a 5xx (but the
// documented 503 when Kafka does not confirm), never a stall, every refusal a problem with a
// reason, and every accepted batch lists each event, a rejected one with its reason. Valid events
// really are produced (to this harness's own topics, deleted at the end).

const DOCUMENTED = new Set(["202", "400", "401", "403", "413", "429", "503"]);
const rates = { USD: "1", EUR: "1.1" };

const Reason = z.object({ kind: z.string().min(1), message: z.string().trim().min(1), paths: z.array(z.string()) });
const Accepted = z.object({
  accepted: z.number().int().min(0),
  rejected: z.number().int().min(0),
  results: z.array(z.discriminatedUnion("status", [z.object({ index: z.number().int(), status: z.literal("accepted") }), z.object({ index: z.number().int(), status: z.literal("rejected"), reason: Reason })])),
});

let h: ApiHarness;

/** Posts a body and checks the answer: well answered, and a 202 accounts for every item. */
async function post(payload: string | Buffer, contentType: string | undefined, what: string): Promise<Answer> {
  const answer = await timedInject(h.app, { method: "POST", url: "/v1/events", headers: { ...h.auth(h.keys.ingest), ...(contentType ? { "content-type": contentType } : {}) }, payload });
  expectWellAnswered(answer, DOCUMENTED, what);
  if (answer.status === 202) {
    const body = Accepted.parse(JSON.parse(answer.body));
    expect(body.results.map((r) => r.index)).toEqual(body.results.map((_, i) => i));
    expect(body.accepted + body.rejected, what).toBe(body.results.length);
  }
  return answer;
}
const postJson = (value: unknown, contentType = "application/json") => post(JSON.stringify(value) ?? "null", contentType, `POST ${contentType} ${(JSON.stringify(value) ?? "").slice(0, 300)}`);

const JSON_TYPES = ["application/json", "application/cloudevents+json", "application/cloudevents-batch+json", "application/json; charset=utf-8"];
const OTHER_TYPES = ["text/plain", "application/xml", "application/octet-stream", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded", "application/json; charset=latin1", "application/jsonx", "*/*", ";;", "application/cloudevents+xml"];

describe("POST /v1/events under arbitrary bodies", () => {
  test.beforeAll(async ({ infra, database }) => {
    const high = 1_000_000;
    h = await createApiHarness({ infra, pool: database.pool, overrides: { rates, rateLimitPerMinute: high, limits: { perAddressPerMinute: high, authFailuresPerMinute: high, readyzPerMinute: high } } });
  });
  afterAll(async () => {
    if (!h) return;
    await h.close();
    const admin = h.kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: Object.values(h.topics) });
    await admin.disconnect();
  });

  test("a valid event is accepted and produced (30 runs)", async () => {
    await fc.assert(
      fc.asyncProperty(arbitraryEvent, fc.constantFrom(...JSON_TYPES.filter((t) => !t.includes("batch"))), async (event, contentType) => {
        const answer = await postJson(event, contentType);
        expect(answer.status, answer.body).toBe(202);
        expect(JSON.parse(answer.body)).toMatchObject({ accepted: 1, rejected: 0 });
      }),
      { numRuns: 30 },
    );
  });

  test("arbitrary JSON values (200 runs)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue({ maxDepth: 4 }), fc.constantFrom(...JSON_TYPES), async (value, contentType) => {
        const answer = await postJson(value, contentType);
        // Neither an object nor a batch of 1 to 1,000: the body's schema refuses it, listing why in `errors`.
        const shaped = Array.isArray(value) ? value.length >= 1 && value.length <= 1_000 : typeof value === "object" && value !== null;
        if (!shaped) {
          expect(answer.status, answer.body).toBe(400);
          expect(JSON.parse(answer.body)).toMatchObject({ errors: [expect.objectContaining({ path: expect.stringContaining("body") })] });
        }
      }),
      { numRuns: 200, examples: [[[], "application/json"], [null, "application/json"], ["", "application/json"], [{}, "application/json"]] },
    );
  });

  test("near-valid events, one field removed or replaced: accepted, or rejected with its reason (200 runs)", async () => {
    await fc.assert(
      fc.asyncProperty(arbitraryNearValidEvent, async ({ event }) => {
        await postJson(event);
      }),
      { numRuns: 200 },
    );
  });

  test("batches of valid, near-valid and arbitrary items, and one too many (60 runs)", async () => {
    const item = fc.oneof(arbitraryEvent, arbitraryNearValidEvent.map((n) => n.event), fc.jsonValue({ maxDepth: 2 }));
    const tooMany = Array.from({ length: 1_001 }, () => ({}));
    await fc.assert(
      fc.asyncProperty(fc.array(item, { maxLength: 30 }), fc.constantFrom("application/json", "application/cloudevents-batch+json"), async (batch, contentType) => {
        await postJson(batch, contentType);
      }),
      { numRuns: 60, examples: [[tooMany, "application/json"]] },
    );
  });

  test("raw bytes and strings under JSON and other content types, or none (200 runs)", async () => {
    const payload = fc.oneof(
      fc.uint8Array({ maxLength: 512 }).map((b) => Buffer.from(b)),
      anyText,
      arbitraryEvent.map((e) => JSON.stringify(e)),
      arbitraryEvent.map((e) => JSON.stringify(e).slice(0, -1)),
    );
    const contentType = fc.option(fc.oneof(fc.constantFrom(...JSON_TYPES, ...OTHER_TYPES), anyText.filter((t) => /^[\t\x20-\x7e]*$/.test(t))), { nil: undefined });
    await fc.assert(
      fc.asyncProperty(payload, contentType, async (body, type) => {
        await post(body, type, `POST ${String(type)} ${String(body).slice(0, 200)}`);
      }),
      { numRuns: 200 },
    );
  });
});
