import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonicalIds, type IdentityLink } from "./canonical-ids.js";

const at = (h: number) => `2026-03-01T${String(h).padStart(2, "0")}:00:00Z`;
const identified = (eventId: string, anchorId: string, linkedId: string, h: number): IdentityLink => ({ eventId, kind: "identified", anchorId, linkedId, time: at(h) });
const merged = (eventId: string, anchorId: string, linkedId: string, h: number): IdentityLink => ({ eventId, kind: "merged", anchorId, linkedId, time: at(h) });

describe("canonical ids of the identity graph", () => {
  it("an identify makes its subject canonical for every id it links", () => {
    const ids = canonicalIds([identified("e1", "account:42", "email:a@x.io", 1), identified("e1", "account:42", "helpdesk:7", 1)]);
    expect(Object.fromEntries(ids)).toEqual({ "account:42": "account:42", "email:a@x.io": "account:42", "helpdesk:7": "account:42" });
  });

  it("two identifies sharing an id join their customers; the earlier one's subject survives", () => {
    const ids = canonicalIds([identified("e2", "account:43", "email:a@x.io", 5), identified("e1", "account:42", "email:a@x.io", 3)]);
    expect(ids.get("account:43")).toBe("account:42");
    expect(ids.get("email:a@x.io")).toBe("account:42");
  });

  it("an explicit merge names its survivor, even against an earlier identify", () => {
    const ids = canonicalIds([identified("e1", "account:42", "email:a@x.io", 1), merged("m1", "email:a@x.io", "account:42", 9)]);
    expect(ids.get("account:42")).toBe("email:a@x.io");
  });

  it("the latest merge names the survivor: a customer that absorbed another can be merged in turn", () => {
    const ids = canonicalIds([merged("m1", "A", "B", 1), merged("m2", "C", "A", 2)]);
    expect(Object.fromEntries(ids)).toEqual({ A: "C", B: "C", C: "C" });
  });

  it("equal times are decided by the event id", () => {
    const ids = canonicalIds([identified("b", "B", "x:1", 1), identified("a", "A", "x:1", 1)]);
    expect(ids.get("B")).toBe("A");
  });

  it("the same links in any order give the same canonical ids", () => {
    const id = fc.constantFrom("c1", "c2", "c3", "email:a", "email:b");
    const link = fc.record({
      eventId: fc.constantFrom("e1", "e2", "e3", "e4"),
      kind: fc.constantFrom("identified" as const, "merged" as const),
      anchorId: id,
      linkedId: id,
      time: fc.integer({ min: 0, max: 3 }).map(at),
    });
    fc.assert(
      fc.property(fc.array(link, { maxLength: 8 }).chain((links) => fc.tuple(fc.constant(links), fc.shuffledSubarray(links, { minLength: links.length, maxLength: links.length }))), ([links, shuffled]) => {
        expect(Object.fromEntries(canonicalIds(shuffled))).toEqual(Object.fromEntries(canonicalIds(links)));
      }),
    );
  });
});
