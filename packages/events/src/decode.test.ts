import { describe, expect, it } from "vitest";
import { decodeCloudEvent, decodeLifecycleEvent, type DecodeOptions } from "./decode.js";

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

  it("keeps the traceparent extension in both modes, and drops a malformed one without refusing the event", () => {
    const traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    const structured = decodeCloudEvent(Buffer.from(JSON.stringify({ ...event, traceparent })));
    expect(structured.ok ? structured.value.traceparent : structured.error).toBe(traceparent);
    const { data, ...attrs } = event;
    const headers = Object.fromEntries(Object.entries({ ...attrs, traceparent }).map(([k, v]) => [`ce_${k}`, Buffer.from(v)]));
    const binary = decodeCloudEvent(Buffer.from(JSON.stringify(data)), headers);
    expect(binary.ok ? binary.value.traceparent : binary.error).toBe(traceparent);
    for (const bad of ["00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01", "not a traceparent", 42]) {
      const r = decodeCloudEvent(Buffer.from(JSON.stringify({ ...event, traceparent: bad })));
      expect(r.ok ? r.value.traceparent : r.error, String(bad)).toBeUndefined();
    }
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

describe("what Postgres would refuse is refused here first", () => {
  const now = Date.parse("2026-12-05T12:00:00Z");
  const DAY = 86_400_000;
  const decode = (e: object, options: DecodeOptions = { now }) => decodeLifecycleEvent(Buffer.from(JSON.stringify(e)), {}, options);
  const kindOf = (e: object, options: DecodeOptions = { now }) => {
    const r = decode(e, options);
    return r.ok ? "ok" : r.error.kind;
  };
  const at = (time: string) => ({ ...event, time });
  const amount = (value: string | number) => ({ ...event, data: { ...event.data, currency: "USD", amount: value } });

  it("times: calendar-valid, from 1970, offsets in range", () => {
    expect(kindOf(at("2024-02-29T10:00:00Z"))).toBe("ok");
    expect(kindOf(at("2025-02-29T10:00:00Z"))).toBe("invalid-time");
    expect(kindOf(at("2025-02-30T10:00:00Z"))).toBe("invalid-time");
    expect(kindOf(at("2025-04-31T10:00:00Z"))).toBe("invalid-time");
    expect(kindOf(at("2025-06-01T24:00:00Z"))).toBe("invalid-time");
    expect(kindOf(at("2025-06-01T10:00:00+24:00"))).toBe("invalid-time");
    expect(kindOf(at("0000-01-01T00:00:00Z"))).toBe("invalid-time");
    expect(kindOf(at("1969-12-31T23:59:59Z"))).toBe("invalid-time");
    expect(kindOf(at("1970-01-01T00:00:00Z"))).toBe("ok");
    expect(kindOf(at("1970-01-01T00:30:00+01:00"))).toBe("invalid-time");
  });

  it("times: up to now + the skew, and later ones as time-in-future", () => {
    expect(kindOf(at(new Date(now + DAY).toISOString()))).toBe("ok");
    expect(kindOf(at(new Date(now + DAY + 1).toISOString()))).toBe("time-in-future");
    expect(kindOf(at("9999-12-31T23:59:59Z"))).toBe("time-in-future");
    expect(kindOf(at(new Date(now + 2 * DAY).toISOString()), { now, maxFutureSkewMs: 3 * DAY })).toBe("ok");
    const r = decode(at("9999-12-31T23:59:59Z"));
    expect(r.ok ? undefined : r.error.paths).toEqual(["time"]);
  });

  it("text: no U+0000 and no lone surrogate in any string or key; a real pair is fine", () => {
    expect(kindOf({ ...event, data: { ...event.data, currency: "USD", channel: "web\u0000" } })).toBe("invalid-text");
    expect(kindOf({ ...event, subject: "cust-\uD800" })).toBe("invalid-text");
    expect(kindOf({ ...event, source: "x\uDC00y" })).toBe("invalid-text");
    expect(kindOf({ ...event, data: { ...event.data, currency: "USD", items: [{ sku: "a", ["k\u0000"]: 1 }] } })).toBe("invalid-text");
    expect(kindOf({ ...event, data: { ...event.data, currency: "USD", channel: "web 😀" } })).toBe("ok");
    const r = decode({ ...event, data: { ...event.data, currency: "USD", channel: "web\u0000" } });
    expect(r.ok ? undefined : r.error.paths).toEqual(["data.channel"]);
  });

  it("text: binary-mode ce_ headers too", () => {
    const { data, ...attrs } = event;
    const headers = Object.fromEntries(Object.entries({ ...attrs, subject: "c\u0000" }).map(([k, v]) => [`ce_${k}`, Buffer.from(v)]));
    const r = decodeLifecycleEvent(Buffer.from(JSON.stringify(data)), headers, { now });
    expect(r.ok ? undefined : r.error).toMatchObject({ kind: "invalid-text", paths: ["ce_subject"] });
  });

  it("amounts: at most 10 integer digits, as strings or numbers", () => {
    expect(kindOf(amount("9999999999.9999"))).toBe("ok");
    expect(kindOf(amount(9_999_999_999))).toBe("ok");
    expect(kindOf(amount("10000000000"))).toBe("invalid-data");
    expect(kindOf(amount("1234567890123.5"))).toBe("invalid-data");
    expect(kindOf(amount(1e13))).toBe("out-of-range");
  });

  it("birthdays: calendar dates from 1900 on", () => {
    const registered = (birthday: string) => ({ ...event, type: "customer.registered", data: { birthday } });
    expect(kindOf(registered("1990-02-28"))).toBe("ok");
    expect(kindOf(registered("1990-02-30"))).toBe("invalid-data");
    expect(kindOf(registered("0001-01-01"))).toBe("invalid-data");
  });
});
