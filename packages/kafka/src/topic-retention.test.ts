import { describe, expect, test } from "vitest";
import { longestKept, type TopicRetention } from "./topic-retention.js";

const DAY = 86_400_000;
const topic = (name: string, patch: Partial<TopicRetention> = {}): TopicRetention => ({ topic: name, retentionMs: 7 * DAY, segmentMs: 7 * DAY, compactOnly: false, ...patch });

describe("longestKept", () => {
  test("a record can outlive retention.ms by one segment's roll time: the segment goes whole, once its newest record is past retention", () => {
    expect(longestKept([topic("a")])).toEqual({ topic: "a", ms: 14 * DAY });
  });

  test("the topic that keeps records longest decides", () => {
    expect(longestKept([topic("a"), topic("b", { retentionMs: 200 * DAY, segmentMs: DAY }), topic("c", { retentionMs: 30 * DAY })])).toEqual({ topic: "b", ms: 201 * DAY });
  });

  test("retention.ms -1 or a compact-only topic keeps records without a time limit", () => {
    expect(longestKept([topic("a"), topic("forever", { retentionMs: -1 })])).toEqual({ topic: "forever", ms: Infinity });
    expect(longestKept([topic("compacted", { compactOnly: true }), topic("b")])).toEqual({ topic: "compacted", ms: Infinity });
  });

  test("no topics: nothing to say", () => {
    expect(longestKept([])).toBeUndefined();
  });
});
