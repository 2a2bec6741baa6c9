import { describe, expect, it } from "vitest";
import { decodeCloudEvent } from "./decode.js";

const event = {
  specversion: "1.0",
  id: "evt-1",
  source: "checkout-service",
  type: "purchase.completed",
  subject: "cust-1",
  time: "2026-11-24T10:00:00Z",
  data: { orderId: "o-1", amount: "12.50", currency: "EUR" },
};

describe("decodeCloudEvent", () => {
  it("decodes structured mode", () => {
    const r = decodeCloudEvent(Buffer.from(JSON.stringify(event)));
    expect(r).toEqual({ ok: true, value: event });
  });

  it("decodes binary mode from ce_* headers", () => {
    const { data, ...attrs } = event;
    const headers = Object.fromEntries(Object.entries(attrs).map(([k, v]) => [`ce_${k}`, Buffer.from(v)]));
    const r = decodeCloudEvent(Buffer.from(JSON.stringify(data)), headers);
    expect(r).toEqual({ ok: true, value: event });
  });

  it("rejects bytes that are not JSON", () => {
    const r = decodeCloudEvent(Buffer.from("{not json"));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.kind).toBe("not-json");
  });

  it("rejects an empty message", () => {
    const r = decodeCloudEvent(null);
    expect(r.ok ? undefined : r.error.kind).toBe("empty");
  });

  it("names every violating attribute", () => {
    const r = decodeCloudEvent(Buffer.from(JSON.stringify({ ...event, id: "", source: "" })));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.kind).toBe("invalid-envelope");
      expect(r.error.paths.sort()).toEqual(["id", "source"]);
    }
  });

  it("classifies a bad time as invalid-time, even beside other problems", () => {
    const r = decodeCloudEvent(Buffer.from(JSON.stringify({ ...event, id: "", time: "yesterday" })));
    expect(r.ok ? undefined : r.error).toMatchObject({ kind: "invalid-time", paths: ["id", "time"] });
  });
});
