import { describe, expect, it } from "vitest";
import { syntheticEvents } from "@lifecycle/events";
import type { AcceptedEvent, ApplyOutcome } from "./apply-events.js";
import { BatchWithdrawn, createBatchMerger } from "./batch-merger.js";

// The merger with a recording apply in place of Postgres: which events go into which transaction,
// and what each partition batch gets back.
const [base] = syntheticEvents({ seed: 1, customers: 1, count: 1, start: new Date("2026-01-01T00:00:00Z"), end: new Date("2026-01-02T00:00:00Z") });
if (!base) throw new Error("no synthetic event");
const batch = (partition: number, ...offsets: number[]): AcceptedEvent[] =>
  offsets.map((offset) => ({ event: { ...base, id: `p${partition}-${offset}` }, topic: "t", partition, offset }));

const outcome = (applied: number): ApplyOutcome => ({ applied, duplicates: 0, outboxed: 0, transitions: 0 });
const refused = Object.assign(new Error("new row violates check constraint"), { code: "23514" });
const away = Object.assign(new Error("terminating connection due to administrator command"), { code: "57P01" });

function recordingApply({ poison = new Set<string>(), fail }: { poison?: Set<string>; fail?: Error } = {}) {
  const calls: string[][] = [];
  let release: (() => void) | undefined;
  const gate = { hold: false };
  const apply = async (events: readonly AcceptedEvent[]) => {
    calls.push(events.map((e) => e.event.id));
    if (gate.hold) await new Promise<void>((r) => (release = r));
    if (fail) throw fail;
    if (events.some((e) => poison.has(e.event.id))) throw refused;
    return outcome(events.length);
  };
  return { apply, calls, gate, release: () => release?.() };
}

describe("merging partition batches into one transaction", () => {
  it("applies the batches waiting together in one call; the outcome is counted once", async () => {
    const rec = recordingApply();
    const merger = createBatchMerger({ apply: rec.apply, fullAt: 3 });
    const shares = await Promise.all([merger.apply(batch(0, 1, 2)), merger.apply(batch(1, 7)), merger.apply(batch(2, 3))]);
    expect(rec.calls).toEqual([["p0-1", "p0-2", "p1-7", "p2-3"]]);
    expect(shares.map((s) => s.outcome.applied)).toEqual([4, 0, 0]);
  });

  it("does not wait for more than the linger time when fewer batches come", async () => {
    const rec = recordingApply();
    const merger = createBatchMerger({ apply: rec.apply, fullAt: 12, lingerMs: 5 });
    const share = await merger.apply(batch(0, 1));
    expect(share.outcome.applied).toBe(1);
    expect(rec.calls).toEqual([["p0-1"]]);
  });

  it("gives each batch back its own events that Postgres refused, and applies the rest", async () => {
    const rec = recordingApply({ poison: new Set(["p1-8"]) });
    const merger = createBatchMerger({ apply: rec.apply, fullAt: 2 });
    const [a, b] = await Promise.all([merger.apply(batch(0, 1, 2)), merger.apply(batch(1, 7, 8))]);
    expect(a.rejected).toEqual([]);
    expect(b.rejected.map((r) => [r.event.event.id, r.reason.kind, r.reason.sqlState])).toEqual([["p1-8", "db-rejected", "23514"]]);
    expect(a.outcome.applied + b.outcome.applied).toBe(3);
  });

  it("fails every batch of a transaction that fails for another reason, so each caller retries", async () => {
    const rec = recordingApply({ fail: away });
    const merger = createBatchMerger({ apply: rec.apply, fullAt: 2 });
    const results = await Promise.allSettled([merger.apply(batch(0, 1)), merger.apply(batch(1, 2))]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
  });

  it("runs at most maxInFlight transactions; what arrives meanwhile goes together into the next", async () => {
    const rec = recordingApply();
    rec.gate.hold = true;
    const merger = createBatchMerger({ apply: rec.apply, fullAt: 1, maxInFlight: 1 });
    const first = merger.apply(batch(0, 1));
    await new Promise((r) => setTimeout(r, 1));
    const later = [merger.apply(batch(1, 2)), merger.apply(batch(2, 3))];
    await new Promise((r) => setTimeout(r, 10));
    expect(rec.calls).toEqual([["p0-1"]]);
    rec.gate.hold = false;
    rec.release();
    await Promise.all([first, ...later]);
    expect(rec.calls).toEqual([["p0-1"], ["p1-2", "p2-3"]]);
  });

  it("keeps a transaction near maxEvents, never splitting a partition's batch", async () => {
    const rec = recordingApply();
    const merger = createBatchMerger({ apply: rec.apply, fullAt: 3, maxEvents: 3, maxInFlight: 1 });
    await Promise.all([merger.apply(batch(0, 1, 2)), merger.apply(batch(1, 3, 4)), merger.apply(batch(2, 5))]);
    expect(rec.calls).toEqual([["p0-1", "p0-2"], ["p1-3", "p1-4", "p2-5"]]);
  });

  it("drops a waiting batch that is no longer wanted (consumer stopping, partition lost) without applying it", async () => {
    const rec = recordingApply();
    rec.gate.hold = true;
    const merger = createBatchMerger({ apply: rec.apply, fullAt: 1, maxInFlight: 1 });
    const first = merger.apply(batch(0, 1));
    await new Promise((r) => setTimeout(r, 1));
    let stopping = false;
    const queued = [merger.apply(batch(1, 2), () => !stopping), merger.apply(batch(2, 3))];
    stopping = true;
    rec.gate.hold = false;
    rec.release();
    const results = await Promise.allSettled([first, ...queued]);
    // The one in flight finishes; of those waiting, only the still wanted one is applied.
    expect(results.map((r) => (r.status === "rejected" ? r.reason instanceof BatchWithdrawn : "applied"))).toEqual(["applied", true, "applied"]);
    expect(rec.calls).toEqual([["p0-1"], ["p2-3"]]);
  });
});
