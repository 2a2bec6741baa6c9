import { describe, expect, test } from "vitest";
import { dedupeWindowDays } from "./dedupe-window.js";

const DAY = 86_400_000;

describe("dedupeWindowDays", () => {
  test("the setting when the topics keep events for less (the default 7 days plus a segment's 7)", () => {
    expect(dedupeWindowDays(90, 14 * DAY)).toBe(90);
  });

  test("as long as a topic can keep an event when that is longer, in whole days rounded up", () => {
    expect(dedupeWindowDays(90, 200 * DAY + 1)).toBe(201);
  });

  test("unlimited when a topic keeps events without limit: ids are never deleted", () => {
    expect(dedupeWindowDays(90, Infinity)).toBe(Infinity);
  });

  test("the setting alone when the topics' retention is not known", () => {
    expect(dedupeWindowDays(30, undefined)).toBe(30);
  });
});
