import { describe, expect, it } from "vitest";

import { minimizePositive, nelderMead } from "./nelder-mead.js";

const rosenbrock = ([x = 0, y = 0]: readonly number[]): number => 100 * (y - x * x) ** 2 + (1 - x) ** 2;

describe("nelderMead", () => {
  it("finds the Rosenbrock minimum at (1, 1)", () => {
    const result = nelderMead({ f: rosenbrock, start: [-1.2, 1] });
    expect(result.converged).toBe(true);
    expect(result.point[0]).toBeCloseTo(1, 6);
    expect(result.point[1]).toBeCloseTo(1, 6);
    expect(result.value).toBeLessThan(1e-12);
  });

  it("is deterministic", () => {
    expect(nelderMead({ f: rosenbrock, start: [-1.2, 1] })).toEqual(nelderMead({ f: rosenbrock, start: [-1.2, 1] }));
  });

  it("stops at maxIterations and says it did not converge", () => {
    const result = nelderMead({ f: rosenbrock, start: [-1.2, 1], maxIterations: 10 });
    expect(result).toMatchObject({ iterations: 10, converged: false });
  });

  it("treats NaN as a rejected point", () => {
    const f = ([x = 0]: readonly number[]): number => (x < 0 ? Number.NaN : (x - 2) ** 2);
    expect(nelderMead({ f, start: [0.1], step: 3 }).point[0]).toBeCloseTo(2, 6);
  });
});

describe("minimizePositive", () => {
  it("optimises on the log scale and returns the parameters themselves", () => {
    const f = ([p = 1, q = 1]: readonly number[]): number => Math.log(p / 3) ** 2 + (q - 0.5) ** 2;
    const result = minimizePositive({ f, start: [1, 1] });
    expect(result.converged).toBe(true);
    expect(result.point[0]).toBeCloseTo(3, 6);
    expect(result.point[1]).toBeCloseTo(0.5, 6);
  });

  it("keeps a parameter that wants to vanish inside the bounds", () => {
    const result = minimizePositive({ f: ([p = 1]) => p, start: [1], lowerBound: 1e-4 });
    expect(result.point[0]).toBeGreaterThanOrEqual(1e-4);
    expect(result.point[0]).toBeLessThan(1.01e-4);
  });
});
