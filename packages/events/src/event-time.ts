/** How far past the machine's clock an event time may be. @defaultValue 1 day */
export const DEFAULT_MAX_FUTURE_SKEW_MS = 86_400_000;

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(?:Z|[+-](\d{2}):(\d{2}))$/;

const isLeap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Days in a month of the proleptic Gregorian calendar (month 1–12). */
export function daysInMonth(year: number, month: number): number {
  return month === 2 && isLeap(year) ? 29 : (DAYS[month - 1] ?? 0);
}

/**
 * Why an event's `time` is unusable, or undefined when it is an RFC 3339 date-time with an offset
 * that names a real instant from 1970 on. `Date.parse` alone accepts 2025-02-30 (as March 2) and
 * year 0000, which Postgres then refuses or stores as nonsense.
 */
export function eventTimeProblem(time: string): string | undefined {
  const m = RFC3339.exec(time);
  if (!m) return "must be an RFC 3339 date-time with an offset";
  const [year, month, day, hour, minute, second, offsetHours, offsetMinutes] = [1, 2, 3, 4, 5, 6, 8, 9].map((i) => Number(m[i] ?? 0));
  const valid =
    year !== undefined && month !== undefined && day !== undefined && month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month) &&
    (hour ?? 24) <= 23 && (minute ?? 60) <= 59 && (second ?? 60) <= 59 && (offsetHours ?? 24) <= 23 && (offsetMinutes ?? 60) <= 59;
  if (!valid) return "is not a real date-time (day, hour, minute, second or offset out of range)";
  const at = Date.parse(time);
  if (Number.isNaN(at)) return "is not a real date-time";
  if (at < 0) return "is before 1970-01-01T00:00:00Z";
  return undefined;
}
