import { describe, expect, it } from "vitest";
import { cdnowRowsToEvents, parseCdnowLine } from "./cdnow.js";

describe("CDNOW rows", () => {
  it("parses master and sample layouts alike, and skips the header", () => {
    expect(parseCdnowLine(" customer_id  date number_of_cds  dollar_value")).toBeUndefined();
    expect(parseCdnowLine(" 00002 19970112  5   77.00\r")).toEqual({ customerId: "00002", date: "19970112", cds: 5, dollars: "77.00" });
    expect(parseCdnowLine(" 00004 0001 19970101  2   29.33")).toEqual({ customerId: "00004", date: "19970101", cds: 2, dollars: "29.33" });
    expect(parseCdnowLine("")).toBeUndefined();
  });

  it("gives same-day rows distinct, deterministic ids", () => {
    const rows = [" 00002 19970112  1   12.00", " 00002 19970112  5   77.00", " 00003 19970102  2   20.76"].map((l) => parseCdnowLine(l));
    const events = cdnowRowsToEvents(rows.filter((r) => r !== undefined));
    expect(events.map((e) => e.id)).toEqual(["cdnow-00002-19970112-1", "cdnow-00002-19970112-2", "cdnow-00003-19970102-1"]);
    expect(events[1]).toMatchObject({
      type: "purchase.completed",
      subject: "00002",
      time: "1997-01-12T00:00:00Z",
      data: { amount: "77.00", currency: "USD" },
    });
  });
});
