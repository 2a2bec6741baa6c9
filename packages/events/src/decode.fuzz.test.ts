import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type KafkaHeaders, REJECTION_KINDS, type Rejection } from "./decode.js";
import { decodeForIngest } from "./decode-ingest.js";
import type { Result } from "./result.js";
import type { LifecycleEvent } from "./schemas/events.js";
import { arbitraryEvent, arbitraryNearValidEvent } from "./test-support/arbitrary-events.js";

// The Kafka consumer's door (decodeForIngest, the same one POST /v1/events uses) fed whatever a
// producer could send. Its contract: it never throws (a throw would stall the partition on one
// poison message), it answers an event or a rejection the dead-letter topic can explain, and it
// answers the same for the same message. numRuns keep each property near a second on two cores.

const now = Date.parse("2026-12-05T12:00:00Z");
const rates = { USD: "1", EUR: "1.1" };
const decode = (value: Buffer | null, headers: KafkaHeaders = {}) => decodeForIngest(value, headers, { rates, now });

const KINDS = new Set<string>(REJECTION_KINDS);
// Only these say nothing about a place in the event: there is no event to point into.
const PATHLESS = new Set<Rejection["kind"]>(["empty", "not-json"]);

/** What every answer must look like, whatever went in. */
function expectWellFormed(result: Result<LifecycleEvent, Rejection>): void {
  if (result.ok) {
    expect(result.value.specversion).toBe("1.0");
    return;
  }
  const { kind, message, paths } = result.error;
  expect(KINDS.has(kind), `unknown kind ${kind}`).toBe(true);
  expect(message.trim(), `empty message for ${kind}`).not.toBe("");
  if (PATHLESS.has(kind)) return;
  expect(paths.length, `${kind} names no path: ${message}`).toBeGreaterThan(0);
  // The message is what an operator reads on the dead-letter topic: it names each place too.
  for (const path of paths) expect(message, `${kind}: the message does not name ${path}`).toContain(path);
}

/** Decodes twice: never a throw, a well-formed answer, and the same answer both times. */
function checkDecode(value: Buffer | null, headers: KafkaHeaders = {}): Result<LifecycleEvent, Rejection> {
  const first = decode(value, headers);
  expectWellFormed(first);
  expect(decode(value, headers)).toEqual(first);
  return first;
}

const json = (v: unknown) => Buffer.from(JSON.stringify(v) ?? "", "utf8");

// Strings as producers mangle them: any UTF-16 code units (lone surrogates, U+0000), any code point.
const anyString = fc.oneof(fc.string({ unit: "binary", maxLength: 64 }), fc.string({ unit: "grapheme", maxLength: 64 }), fc.string({ maxLength: 64 }));
const anyJson = fc.jsonValue({ maxDepth: 4 });
const headerValue = fc.oneof(anyString, fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)), fc.array(anyString, { maxLength: 3 }), fc.constant(undefined));
const CE_ATTRIBUTES = ["specversion", "id", "source", "type", "subject", "time", "traceparent", "datacontenttype"];
/** Kafka headers, sometimes with ce_specversion (binary mode), with arbitrary values. */
const anyHeaders: fc.Arbitrary<KafkaHeaders> = fc.dictionary(
  fc.oneof(fc.constantFrom(...CE_ATTRIBUTES.map((a) => `ce_${a}`)), anyString),
  headerValue,
  { maxKeys: 8 },
);

describe("the Kafka decoder under arbitrary input", () => {
  it("arbitrary bytes, with or without arbitrary headers (600 runs)", () => {
    fc.assert(
      fc.property(fc.option(fc.uint8Array({ maxLength: 512 }), { nil: null }), anyHeaders, (bytes, headers) => {
        checkDecode(bytes === null ? null : Buffer.from(bytes), headers);
      }),
      { numRuns: 600 },
    );
  });

  it("arbitrary strings, as JSON and as raw text (600 runs)", () => {
    fc.assert(
      fc.property(anyString, (s) => {
        checkDecode(Buffer.from(s, "utf8"));
        checkDecode(json(s));
      }),
      { numRuns: 600 },
    );
  });

  it("arbitrary JSON values, structured and in binary mode with valid ce_ headers (600 runs)", () => {
    const ceHeaders = { ce_specversion: "1.0", ce_id: "e1", ce_source: "fuzz", ce_type: "purchase.completed", ce_subject: "c1", ce_time: "2026-03-01T10:00:00Z" };
    fc.assert(
      fc.property(anyJson, (v) => {
        checkDecode(json(v));
        checkDecode(json(v), ceHeaders);
      }),
      { numRuns: 600 },
    );
  });

  it("objects shaped like CloudEvents with arbitrary attribute values (600 runs)", () => {
    const attributes = fc.record(
      Object.fromEntries(CE_ATTRIBUTES.map((a) => [a, fc.oneof(anyJson, anyString)])),
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(attributes, anyJson, (attrs, data) => {
        checkDecode(json({ ...attrs, data }));
      }),
      { numRuns: 600 },
    );
  });
});

const related = (a: string, b: string) => a === b || a.startsWith(`${b}.`) || b.startsWith(`${a}.`) || a === "(root)" || b === "(root)";

describe("near-valid events", () => {
  it("the testkit's valid events are accepted as they are (300 runs)", () => {
    fc.assert(
      fc.property(arbitraryEvent, (event) => {
        const r = checkDecode(json(event));
        expect(r.ok ? r.value : r.error).toEqual(event);
      }),
      { numRuns: 300 },
    );
  });

  it("one field removed or replaced: accepted, or rejected naming that field (1,000 runs)", () => {
    fc.assert(
      fc.property(arbitraryNearValidEvent, ({ event, mutation }) => {
        const r = checkDecode(json(event));
        if (r.ok) return;
        const where = mutation.path.join(".");
        // A new type makes the (untouched) data the problem; every other rejection points at the change.
        if (where === "type") return;
        expect(
          r.error.paths.some((p) => related(p, where)),
          `${mutation.kind} ${where} rejected as ${r.error.kind} at ${r.error.paths.join(", ")}: ${r.error.message}`,
        ).toBe(true);
      }),
      { numRuns: 1_000 },
    );
  });
});
