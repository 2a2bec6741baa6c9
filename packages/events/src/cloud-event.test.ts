import { describe, expect, it } from "vitest";
import { CloudEventEnvelope } from "./cloud-event.js";

const valid = {
  specversion: "1.0",
  id: "evt-1",
  source: "checkout-service",
  type: "purchase.completed",
  subject: "cust-1",
  time: "2026-11-24T10:00:00.123+01:00",
  data: { orderId: "o-1" },
};

describe("CloudEventEnvelope", () => {
  it("accepts a structured-mode event", () => {
    expect(CloudEventEnvelope.safeParse(valid).success).toBe(true);
  });

  it.each([
    ["a time without offset", { time: "2026-11-24T10:00:00" }, "time"],
    ["an impossible date", { time: "2026-13-45T10:00:00Z" }, "time"],
    ["a wrong specversion", { specversion: "0.3" }, "specversion"],
    ["an over-long id", { id: "x".repeat(129) }, "id"],
    ["an empty subject", { subject: "" }, "subject"],
  ])("rejects %s, naming the path", (_label, patch, path) => {
    const result = CloudEventEnvelope.safeParse({ ...valid, ...patch });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.path.join("."))).toContain(path);
  });
});
