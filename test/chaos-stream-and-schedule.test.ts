import { decodeForIngest, INPUT_TOPICS, inputTopicsFrom } from "@lifecycle/events";
import { describe, expect, test } from "@lifecycle/testkit";
import { createEventStream, type StreamItem } from "../bench/chaos/event-stream.js";
import { faultSchedule, resourceOf } from "../bench/chaos/fault-schedule.js";
import { EXPECTED_REJECTION } from "../bench/chaos/violation.js";

// Issue 16: the chaos run's pure parts. A seed must give the same faults every time (a run that
// found something is repeated with its seed), and the checker's expectations of the stream must be
// what the product's own decoder says (a wrong expectation would be a violation of the checker's).
const topics = inputTopicsFrom(INPUT_TOPICS);
if (!topics) throw new Error("the default input topics");
// In the past: the decoder refuses times later than now + its skew.
const at = new Date("2026-01-15T12:00:00Z");
const items = (seed: number, n: number): StreamItem[] => {
  const stream = createEventStream({ seed, customers: 200, prefix: "t-", topics });
  return Array.from({ length: n }, () => stream.next(at));
};

describe("chaos: fault schedule", () => {
  test("the same seed gives the same schedule; another seed another", () => {
    const a = faultSchedule({ seed: 7, streamMs: 600_000 });
    expect(faultSchedule({ seed: 7, streamMs: 600_000 })).toEqual(a);
    expect(faultSchedule({ seed: 8, streamMs: 600_000 })).not.toEqual(a);
  });

  test("ten minutes: dozens of faults of many kinds, after the warm-up, each over before the stream stops, none on a resource still out", () => {
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]) {
      const faults = faultSchedule({ seed, streamMs: 600_000 });
      expect(faults.length).toBeGreaterThan(25);
      expect(new Set(faults.map((f) => f.kind)).size).toBeGreaterThan(8);
      for (const [i, f] of faults.entries()) {
        expect(f.at).toBeGreaterThanOrEqual(8_000);
        expect(f.at + f.durationMs).toBeLessThanOrEqual(600_000 - 5_000);
        const before = faults.slice(0, i).filter((g) => resourceOf(g) === resourceOf(f));
        for (const g of before) expect(g.at + g.durationMs + 5_000).toBeLessThanOrEqual(f.at);
      }
    }
  });
});

describe("chaos: event stream", () => {
  test("seeded: the same seed gives the same kinds, customers, types and amounts", () => {
    const strip = (i: StreamItem) => (i.kind === "bad" ? { kind: i.kind, what: i.bad.what, via: i.via } : { kind: i.kind, via: i.via, type: i.event.type, subject: i.event.subject, data: i.event.data });
    expect(items(3, 2_000).map(strip)).toEqual(items(3, 2_000).map(strip));
  });

  test("valid items decode as the consumer decodes them; re-sent ones are byte copies of earlier ones; every bad one is refused with the kind the checker expects", () => {
    const all = items(5, 5_000);
    const seen = new Map<string, string>();
    const kinds = { valid: 0, duplicate: 0, bad: 0, http: 0 };
    for (const i of all) {
      kinds[i.kind]++;
      if (i.via === "http") kinds.http++;
      const decoded = decodeForIngest(Buffer.from(i.value), {}, { rates: { USD: "1" }, maxFutureSkewMs: 60_000 });
      if (i.kind === "bad") {
        expect(decoded.ok ? "accepted" : decoded.error.kind, `${i.bad.id} (${i.bad.what})`).toBe(EXPECTED_REJECTION[i.bad.what]);
        // Over HTTP the item is sent as JSON: it must be refused for the same reason.
        if (i.via === "http") {
          const viaHttp = decodeForIngest(Buffer.from(JSON.stringify(i.body)), {}, { rates: { USD: "1" }, maxFutureSkewMs: 60_000 });
          expect(viaHttp.ok ? "accepted" : viaHttp.error.kind).toBe(EXPECTED_REJECTION[i.bad.what]);
        }
        continue;
      }
      expect(decoded.ok, i.value).toBe(true);
      if (i.kind === "valid") seen.set(i.event.id, i.value);
      else expect(seen.get(i.event.id)).toBe(i.value);
    }
    // Roughly the shares asked for: 5 % copies, 2 % bad, a tenth over HTTP.
    expect(kinds.duplicate / all.length).toBeGreaterThan(0.03);
    expect(kinds.bad / all.length).toBeGreaterThan(0.01);
    expect(kinds.http / all.length).toBeGreaterThan(0.07);
    expect(new Set(all.flatMap((i) => (i.kind === "bad" ? [i.bad.what] : []))).size).toBe(4);
  });
});
