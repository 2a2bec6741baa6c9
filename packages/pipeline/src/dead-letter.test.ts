import { describe, expect, it } from "vitest";
import { chunkLetters, type DeadLetter } from "./dead-letter.js";

const letter = (offset: number, bytes: number): DeadLetter => ({
  topic: "in",
  partition: 0,
  offset: String(offset),
  key: Buffer.from("k"),
  value: Buffer.alloc(bytes),
  headers: {},
  rejection: { kind: "not-json", message: "x", paths: [] },
});

describe("dead letters in requests the broker accepts", () => {
  it("splits a large batch into requests under the byte limit, in order", () => {
    const letters = Array.from({ length: 10 }, (_, i) => letter(i, 1_000));
    const chunks = chunkLetters(letters, 4_000);
    expect(chunks.map((c) => c.map((l) => l.offset))).toEqual([["0", "1"], ["2", "3"], ["4", "5"], ["6", "7"], ["8", "9"]]);
  });

  it("sends a letter larger than the limit alone rather than never", () => {
    const chunks = chunkLetters([letter(0, 10), letter(1, 9_000), letter(2, 10)], 4_000);
    expect(chunks.map((c) => c.map((l) => l.offset))).toEqual([["0"], ["1"], ["2"]]);
  });

  it("sends nothing for no letters", () => {
    expect(chunkLetters([])).toEqual([]);
  });
});
