import { randomBytes } from "node:crypto";
import { afterAll } from "vitest";
import { LifecycleEvent } from "@lifecycle/events";
import { SpanKind } from "@lifecycle/telemetry";
import { captureSpans, describe, expect, readTopic, test, uniqueName } from "@lifecycle/testkit";
import { createApiHarness } from "../test-support/api-harness.js";

// With tracing on, POST /v1/events is a server span continuing the caller's `traceparent` header,
// the produce a producer span under it, and each event without a traceparent of its own goes to
// Kafka with the producer span's, so ingest continues the caller's trace.
const capture = captureSpans();
afterAll(() => capture.stop());

const hex = (bytes: number) => randomBytes(bytes).toString("hex");
const purchase = (subject: string, traceparent?: string) => ({
  specversion: "1.0",
  id: uniqueName("tr-api"),
  source: "checkout",
  type: "purchase.completed",
  subject,
  time: new Date().toISOString(),
  data: { orderId: uniqueName("o"), amount: "10", currency: "USD" },
  ...(traceparent ? { traceparent } : {}),
});

describe("POST /v1/events with tracing on", () => {
  test("continues the caller's trace into the events it produces; an event's own traceparent is kept", async ({ infra, database }) => {
    const h = await createApiHarness({ infra, pool: database.pool });
    try {
      const caller = { traceId: hex(16), spanId: hex(8) };
      const own = `00-${hex(16)}-${hex(8)}-01`;
      const [plain, traced] = [purchase(uniqueName("cust-a")), purchase(uniqueName("cust-b"), own)];
      const r = await h.app.inject({
        method: "POST",
        url: "/v1/events",
        headers: { ...h.auth(h.keys.ingest), traceparent: `00-${caller.traceId}-${caller.spanId}-01` },
        payload: [plain, traced],
      });
      expect(r.statusCode).toBe(202);

      const server = capture.spans().find((s) => s.name === "POST /v1/events");
      const send = capture.spans().find((s) => s.name === "send");
      expect(server?.kind).toBe(SpanKind.SERVER);
      expect(server?.spanContext().traceId).toBe(caller.traceId);
      expect(server?.parentSpanContext?.spanId).toBe(caller.spanId);
      expect(send?.kind).toBe(SpanKind.PRODUCER);
      expect(send?.spanContext().traceId).toBe(caller.traceId);
      expect(send?.parentSpanContext?.spanId).toBe(server?.spanContext().spanId);

      const produced = (await readTopic(h.kafka, h.topics.purchase, 2)).map((m) => LifecycleEvent.parse(JSON.parse(m.value?.toString() ?? "null")));
      expect(produced.find((e) => e.id === plain.id)?.traceparent).toBe(`00-${caller.traceId}-${send?.spanContext().spanId}-01`);
      expect(produced.find((e) => e.id === traced.id)?.traceparent).toBe(own);
    } finally {
      await h.close();
    }
  });
});
