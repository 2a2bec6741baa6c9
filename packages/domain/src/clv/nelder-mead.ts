// Derivative-free minimiser for the model fits. Nelder–Mead is what BTYD (optim's default) and
// lifetimes (scipy, method="Nelder-Mead") use, so our fits walk the same kind of path as the
// reference libraries. It is about 60 lines; no npm optimizer is both well kept and smaller to trust.

/** Options for {@link nelderMead}. */
export type NelderMeadOptions = {
  /** Function to minimise. NaN is treated as +∞, so an objective can reject a point by returning NaN or ∞. */
  f: (x: readonly number[]) => number;
  /** Starting point; its value must be finite. */
  start: readonly number[];
  /**
   * Offset of the initial simplex's other vertices from `start`, per coordinate.
   * @defaultValue 0.5
   */
  step?: number;
  /**
   * Converged when the spread of values across the simplex is at most this, relative to
   * max(1, |best value|), and the simplex is within `xTolerance` of its best vertex.
   * @defaultValue 1e-12
   */
  fTolerance?: number;
  /** @defaultValue 1e-9 */
  xTolerance?: number;
  /** @defaultValue 5000 */
  maxIterations?: number;
  /** Checked on the best vertex each iteration: true ends the run, not converged and `abandoned`. */
  abandonAt?: (best: readonly number[]) => boolean;
};

export type NelderMeadResult = { point: number[]; value: number; iterations: number; converged: boolean; abandoned?: boolean };

type Vertex = { x: number[]; f: number };

/** Deterministic Nelder–Mead with the standard coefficients (reflect 1, expand 2, contract ½, shrink ½). */
export function nelderMead({
  f,
  start,
  step = 0.5,
  fTolerance = 1e-12,
  xTolerance = 1e-9,
  maxIterations = 5000,
  abandonAt,
}: NelderMeadOptions): NelderMeadResult {
  const evaluate = (x: number[]): Vertex => {
    const value = f(x);
    return { x, f: Number.isNaN(value) ? Number.POSITIVE_INFINITY : value };
  };
  const n = start.length;
  const simplex: Vertex[] = [evaluate([...start])];
  for (let i = 0; i < n; i++) simplex.push(evaluate(start.map((v, j) => (j === i ? v + step : v))));

  for (let iteration = 0; iteration < maxIterations; iteration++) {
    simplex.sort((u, v) => u.f - v.f);
    const best = at(simplex, 0);
    const worst = at(simplex, n);
    if (isConverged(simplex, fTolerance, xTolerance)) {
      return { point: best.x, value: best.f, iterations: iteration, converged: true };
    }
    if (abandonAt?.(best.x)) return { point: best.x, value: best.f, iterations: iteration, converged: false, abandoned: true };
    const kept = simplex.slice(0, n);
    const centroid = start.map((_, j) => kept.reduce((sum, v) => sum + (v.x[j] ?? 0), 0) / n);
    // Point on the line from the worst vertex through the centroid: t = 1 reflects, 2 expands, ±½ contracts.
    const along = (t: number): Vertex => evaluate(centroid.map((c, j) => c + t * (c - (worst.x[j] ?? 0))));

    const reflected = along(1);
    if (reflected.f < best.f) {
      const expanded = along(2);
      simplex[n] = expanded.f < reflected.f ? expanded : reflected;
    } else if (reflected.f < at(simplex, n - 1).f) {
      simplex[n] = reflected;
    } else {
      const contracted = reflected.f < worst.f ? along(0.5) : along(-0.5);
      if (contracted.f < Math.min(reflected.f, worst.f)) {
        simplex[n] = contracted;
      } else {
        for (let i = 1; i <= n; i++) simplex[i] = evaluate(best.x.map((b, j) => b + 0.5 * ((at(simplex, i).x[j] ?? 0) - b)));
      }
    }
  }
  simplex.sort((u, v) => u.f - v.f);
  const best = at(simplex, 0);
  return { point: best.x, value: best.f, iterations: maxIterations, converged: isConverged(simplex, fTolerance, xTolerance) };
}

function isConverged(simplex: readonly Vertex[], fTolerance: number, xTolerance: number): boolean {
  const best = at(simplex, 0);
  const worst = at(simplex, simplex.length - 1);
  if (!Number.isFinite(worst.f)) return false;
  if (worst.f - best.f > fTolerance * Math.max(1, Math.abs(best.f))) return false;
  return simplex.every((v) => v.x.every((xi, j) => Math.abs(xi - (best.x[j] ?? 0)) <= xTolerance));
}

function at<T>(items: readonly T[], index: number): T {
  const item = items[index];
  if (item === undefined) throw new RangeError(`index ${index} out of range`);
  return item;
}

/** Options for {@link minimizePositive}: as {@link NelderMeadOptions}, over strictly positive parameters. */
export type MinimizePositiveOptions = Omit<NelderMeadOptions, "f" | "start"> & {
  f: (params: readonly number[]) => number;
  /** Positive starting parameters. */
  start: readonly number[];
  /**
   * Parameters are kept in [lowerBound, upperBound]; outside it the objective is +∞. The bounds
   * stop a degenerate data set (say, no repeat buyers) from walking a parameter off to 0 or ∞.
   * @defaultValue 1e-8 and 1e8
   */
  lowerBound?: number;
  upperBound?: number;
  /**
   * Stop as soon as the best point leaves [lower, upper] (not converged, no restarts): for a fit
   * the guard will reject there anyway, so a likelihood rising without end along a ridge to the
   * bounds costs a few hundred iterations instead of every run's maximum.
   */
  abandonOutside?: { lower: number; upper: number } | undefined;
  /**
   * Nelder–Mead can stall on a collapsed simplex; restarting from the best point with a fresh
   * simplex (BTYD's walkthrough refits three times) costs little and removes that risk.
   * @defaultValue 3
   */
  restarts?: number;
};

/** {@link minimizePositive}'s default parameter bounds, which the fit guard checks fits against. */
export const POSITIVE_LOWER_BOUND = 1e-8;
export const POSITIVE_UPPER_BOUND = 1e8;

/** Minimise over positive parameters by running Nelder–Mead on their logarithms. */
export function minimizePositive({
  f,
  start,
  lowerBound = POSITIVE_LOWER_BOUND,
  upperBound = POSITIVE_UPPER_BOUND,
  restarts = 3,
  abandonOutside,
  ...options
}: MinimizePositiveOptions): NelderMeadResult {
  const [logLower, logUpper] = [Math.log(lowerBound), Math.log(upperBound)];
  if (abandonOutside) {
    const [low, high] = [Math.log(abandonOutside.lower), Math.log(abandonOutside.upper)];
    options.abandonAt = (best) => best.some((t) => t < low || t > high);
  }
  const clamp = (v: number): number => Math.min(Math.max(v, logLower), logUpper);
  const onLogScale = (theta: readonly number[]): number =>
    theta.every((t) => t >= logLower && t <= logUpper) ? f(theta.map(Math.exp)) : Number.POSITIVE_INFINITY;

  let result = nelderMead({ ...options, f: onLogScale, start: start.map((s) => clamp(Math.log(s))) });
  let iterations = result.iterations;
  for (let i = 0; i < restarts && !result.abandoned; i++) {
    const next = nelderMead({ ...options, f: onLogScale, start: result.point });
    iterations += next.iterations;
    const improved = result.value - next.value;
    if (next.value <= result.value || next.abandoned) result = next;
    if (improved <= (options.fTolerance ?? 1e-12) * Math.max(1, Math.abs(result.value)) && result.converged) break;
  }
  return { point: result.point.map(Math.exp), value: result.value, iterations, converged: result.converged, abandoned: result.abandoned };
}
