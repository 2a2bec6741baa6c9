import { describe, expect, it } from "vitest";
import { channelOfQueue, followUpJobId, followUpJobParts, followUpQueue, followUpRetryDelayMs, JOB_CATALOG, withoutPersonalContext, type PlaybookName } from "./jobs.js";

describe("followUpJobId", () => {
  it("is stable for the same (customer, playbook, trigger)", () => {
    const a = followUpJobId({ customerId: "c-1", playbook: "thank-you", trigger: "first-purchase" });
    expect(a).toBe(followUpJobId({ customerId: "c-1", playbook: "thank-you", trigger: "first-purchase" }));
    expect(a).toBe("fu|thank-you|c-1|first-purchase");
  });

  it("never contains ':' and is never all digits, whatever the customer id", () => {
    const id = followUpJobId({ customerId: "crm:42", playbook: "win-back-at-risk", trigger: "at-risk:2024-01-01T00:00:00Z" });
    expect(id).not.toContain(":");
    expect(followUpJobId({ customerId: "123", playbook: "recovery", trigger: "1" })).not.toMatch(/^\d+$/);
  });

  it("keeps distinct inputs distinct even when they contain the separator", () => {
    const a = followUpJobId({ customerId: "a|b", playbook: "cross-sell", trigger: "t" });
    const b = followUpJobId({ customerId: "a", playbook: "cross-sell", trigger: "b|t" });
    expect(a).not.toBe(b);
  });

  it("reads back into its parts, whatever characters they hold; other ids are not follow-ups", () => {
    const parts: { customerId: string; playbook: PlaybookName; trigger: string } = { customerId: "crm:42|x", playbook: "win-back-at-risk", trigger: "at-risk-2024-01-01T00:00:00.000Z" };
    expect(followUpJobParts(followUpJobId(parts))).toEqual(parts);
    expect(followUpJobParts("clv-refit-initial")).toBeUndefined();
    expect(channelOfQueue(followUpQueue("webhook"))).toBe("webhook");
  });
});

describe("follow-up retry schedule", () => {
  const schedule = { baseMs: 10_000, maxMs: 3_600_000 };
  it("doubles from the base and stops at the cap", () => {
    expect([1, 2, 3, 4, 9, 10, 19].map((n) => followUpRetryDelayMs(n, schedule))).toEqual([10_000, 20_000, 40_000, 80_000, 2_560_000, 3_600_000, 3_600_000]);
  });
  it("with the catalog's attempts the defaults span hours, so an outage of hours is retried", () => {
    const { attempts } = JOB_CATALOG["follow-up"];
    let total = 0;
    for (let made = 1; made < attempts; made++) total += followUpRetryDelayMs(made, schedule);
    expect(total / 3_600_000).toBeGreaterThan(11);
    expect(total / 3_600_000).toBeLessThan(12);
  });
  it("stays finite for absurd attempt counts", () => {
    expect(followUpRetryDelayMs(10_000, { baseMs: 1, maxMs: 5 })).toBe(5);
  });
});

describe("withoutPersonalContext", () => {
  it("drops the birthday and keeps the rest of the payload", () => {
    const job = { customerId: "c1", context: { birthday: "1984-11-23", orderId: "o1", score: 3 } };
    expect(withoutPersonalContext(job)).toEqual({ customerId: "c1", context: { orderId: "o1", score: 3 } });
    expect(job.context.birthday).toBe("1984-11-23");
  });
});
