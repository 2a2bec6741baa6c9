import { DEFAULT_LIMITS, type ApiDeps } from "../deps.js";
import { HttpProblem } from "../http/problem.js";

const DAY_MS = 86_400_000;

/** The longest period a measuring route accepts, in days (API_MAX_PERIOD_DAYS). */
export const maxPeriodDays = (deps: ApiDeps) => deps.limits?.maxPeriodDays ?? DEFAULT_LIMITS.maxPeriodDays;

/** A 400 naming the limit when [from, to) is longer than it: a longer period scans more of every table. */
export function checkPeriod(from: number, to: number, deps: ApiDeps): void {
  const max = maxPeriodDays(deps);
  if (to - from > max * DAY_MS) {
    throw new HttpProblem(400, `the period [from, to) spans ${Math.ceil((to - from) / DAY_MS)} days; at most ${max} (API_MAX_PERIOD_DAYS)`);
  }
}
