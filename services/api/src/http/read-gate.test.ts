import { describe, expect, it } from "vitest";
import { HttpProblem } from "./problem.js";
import { createReadGate } from "./read-gate.js";

const later = <T>(ms: number, value: T) => new Promise<T>((resolve) => setTimeout(() => resolve(value), ms));

describe("read gate", () => {
  it("runs at most `atOnce` reads together; the others wait their turn, in order", async () => {
    const gate = createReadGate({ atOnce: 2, waitMs: 1_000 });
    let running = 0;
    let most = 0;
    const order: number[] = [];
    const read = (i: number) =>
      gate.run(async () => {
        running++;
        most = Math.max(most, running);
        await later(20, undefined);
        order.push(i);
        running--;
        return i;
      });
    expect(await Promise.all([0, 1, 2, 3, 4].map(read))).toEqual([0, 1, 2, 3, 4]);
    expect(most).toBe(2);
    expect(order.slice(2)).toEqual([2, 3, 4]);
  });

  it("a read that waits longer than `waitMs` is refused with a 503 naming the setting, and the gate stays usable", async () => {
    const gate = createReadGate({ atOnce: 1, waitMs: 50 });
    const slow = gate.run(() => later(200, "slow"));
    const refused = await gate.run(() => later(0, "never")).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(HttpProblem);
    expect(refused).toMatchObject({ status: 503, message: expect.stringContaining("API_EXPENSIVE_READS_AT_ONCE") });
    expect(await slow).toBe("slow");
    expect(await gate.run(() => later(0, "next"))).toBe("next");
  });

  it("a read that throws frees its turn", async () => {
    const gate = createReadGate({ atOnce: 1, waitMs: 100 });
    await expect(gate.run(() => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect(await gate.run(() => later(0, "ok"))).toBe("ok");
  });
});
