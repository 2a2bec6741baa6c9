import { isSpanContextValid, ROOT_CONTEXT, trace, TraceFlags } from "@opentelemetry/api";
import { describe, expect, it } from "vitest";
import { startSpan } from "./spans.js";
import { formatTraceparent, parentContext, parseTraceparent, traceparentOf } from "./trace-context.js";

// The W3C specification's own example.
const EXAMPLE = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

describe("traceparent", () => {
  it("parses the W3C example and formats it back", () => {
    const sc = parseTraceparent(EXAMPLE);
    expect(sc).toEqual({ traceId: "0af7651916cd43dd8448eb211c80319c", spanId: "b7ad6b7169203331", traceFlags: TraceFlags.SAMPLED, isRemote: true });
    expect(sc && formatTraceparent(sc)).toBe(EXAMPLE);
  });

  it("keeps the sampled flag only: other flag bits are not ours to pass on", () => {
    expect(parseTraceparent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00")?.traceFlags).toBe(TraceFlags.NONE);
    expect(parseTraceparent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-03")?.traceFlags).toBe(TraceFlags.SAMPLED);
  });

  it("refuses what the specification calls invalid", () => {
    for (const bad of [
      undefined,
      "",
      "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", // version ff
      "00-00000000000000000000000000000000-b7ad6b7169203331-01", // all-zero trace id
      "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01", // all-zero parent id
      "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01", // upper case
      "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331", // no flags
      `${EXAMPLE}-extra`,
    ]) {
      expect(parseTraceparent(bad), String(bad)).toBeUndefined();
    }
  });

  it("a span continuing a traceparent keeps its trace; a missing or invalid one starts none here", () => {
    // No provider is registered in this test: the API's no-op span still carries its parent's ids,
    // which is how a traceparent passes through a process that does not trace.
    const passed = startSpan("hop", { parent: EXAMPLE });
    expect(traceparentOf(passed)).toBe(EXAMPLE);
    expect(traceparentOf(startSpan("hop", { parent: "garbage" }))).toBeUndefined();
    expect(isSpanContextValid(trace.getSpanContext(parentContext("garbage")) ?? { traceId: "", spanId: "", traceFlags: 0 })).toBe(false);
    expect(parentContext(ROOT_CONTEXT)).toBe(ROOT_CONTEXT);
  });
});
