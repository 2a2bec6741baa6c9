import { describe, expect, it } from "vitest";
import { LifecycleEvent } from "./schemas/events.js";
import { syntheticEvents } from "./synthetic.js";

const opts = { seed: 7, customers: 50, count: 2_000, start: new Date("2026-01-01T00:00:00Z"), end: new Date("2026-07-01T00:00:00Z") };

describe("syntheticEvents", () => {
  it("yields only events that pass the real schemas", () => {
    for (const e of syntheticEvents(opts)) expect(LifecycleEvent.safeParse(e).success).toBe(true);
  });

  it("is deterministic for a seed and differs across seeds", () => {
    const a = [...syntheticEvents(opts)];
    expect([...syntheticEvents(opts)]).toEqual(a);
    expect([...syntheticEvents({ ...opts, seed: 8 })]).not.toEqual(a);
  });

  it("covers every event type", () => {
    const types = new Set([...syntheticEvents(opts)].map((e) => e.type));
    expect(types.size).toBe(9);
  });
});
