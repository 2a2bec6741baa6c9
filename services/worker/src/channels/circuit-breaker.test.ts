import { describe, expect, it } from "vitest";
import { createCircuitBreaker } from "./circuit-breaker.js";

const settings = { threshold: 3, openMs: 1_000, maxOpenMs: 4_000 };

function breakerAt(start = 0) {
  let t = start;
  const breaker = createCircuitBreaker(settings, () => t);
  return { breaker, advance: (ms: number) => (t += ms) };
}

describe("circuit breaker", () => {
  it("opens after threshold transient failures in a row, not before", () => {
    const { breaker } = breakerAt();
    expect(breaker.failure()).toBe(false);
    expect(breaker.failure()).toBe(false);
    expect(breaker.state()).toBe("closed");
    expect(breaker.permit()).toEqual({ allowed: true });
    expect(breaker.failure()).toBe(true);
    expect(breaker.state()).toBe("open");
    expect(breaker.permit()).toEqual({ allowed: false, retryInMs: 1_000 });
  });

  it("a success between failures resets the count", () => {
    const { breaker } = breakerAt();
    breaker.failure();
    breaker.failure();
    breaker.success();
    breaker.failure();
    breaker.failure();
    expect(breaker.state()).toBe("closed");
  });

  it("after the cool-down lets one probe through; its success closes the circuit", () => {
    const { breaker, advance } = breakerAt();
    for (let i = 0; i < 3; i++) breaker.failure();
    advance(400);
    expect(breaker.permit()).toEqual({ allowed: false, retryInMs: 600 });
    advance(600);
    expect(breaker.state()).toBe("half-open");
    expect(breaker.permit()).toEqual({ allowed: true });
    // A second delivery while the probe is out waits for its answer.
    expect(breaker.permit()).toEqual({ allowed: false, retryInMs: 1_000 });
    breaker.success();
    expect(breaker.state()).toBe("closed");
    expect(breaker.permit()).toEqual({ allowed: true });
  });

  it("a failed probe opens it again for twice as long, up to the maximum", () => {
    const { breaker, advance } = breakerAt();
    for (let i = 0; i < 3; i++) breaker.failure();
    const pauses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const p = breaker.permit();
      if (p.allowed) throw new Error("expected the circuit open");
      pauses.push(p.retryInMs);
      advance(p.retryInMs);
      expect(breaker.permit()).toEqual({ allowed: true });
      breaker.failure();
    }
    expect(pauses).toEqual([1_000, 2_000, 4_000, 4_000]);
    // Closing resets the cool-down to the first one.
    advance(4_000);
    breaker.permit();
    breaker.success();
    for (let i = 0; i < 3; i++) breaker.failure();
    expect(breaker.permit()).toEqual({ allowed: false, retryInMs: 1_000 });
  });

  it("a failure of a delivery begun before the circuit opened does not extend the pause", () => {
    const { breaker, advance } = breakerAt();
    for (let i = 0; i < 3; i++) breaker.failure();
    advance(500);
    expect(breaker.failure()).toBe(false);
    expect(breaker.permit()).toEqual({ allowed: false, retryInMs: 500 });
  });
});
