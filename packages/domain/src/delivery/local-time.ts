// Wall-clock time in an IANA time zone, with the runtime's Intl data only (no IO, no library):
// what a customer's clock shows at an instant, and the instant a local time happens.

export interface LocalParts {
  year: number;
  month: number; // 1-12
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", { timeZone, hourCycle: "h23", year: "numeric", month: "numeric", day: "numeric", hour: "numeric", minute: "numeric", second: "numeric" });
    formatters.set(timeZone, f);
  }
  return f;
}

/** True when the runtime knows the zone (e.g. "Europe/Berlin"); "UTC" always. */
export function isTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** The wall clock in `timeZone` at `instant`. */
export function localParts(instant: Date, timeZone: string): LocalParts {
  const parts: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(instant)) if (p.type !== "literal") parts[p.type] = Number(p.value);
  return { year: parts.year ?? 0, month: parts.month ?? 0, day: parts.day ?? 0, hour: parts.hour ?? 0, minute: parts.minute ?? 0, second: parts.second ?? 0 };
}

/** The zone's offset from UTC at `instant`, in milliseconds (east positive). */
function offsetMs(instant: Date, timeZone: string): number {
  const p = localParts(instant, timeZone);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return asUtc - Math.floor(instant.getTime() / 1000) * 1000;
}

/**
 * The instant the wall clock in `timeZone` shows the given local time. A time skipped by a
 * daylight-saving jump (02:30 on a spring-forward night) is taken as the same time after the
 * jump; a repeated one (autumn) as its first occurrence.
 */
export function instantAt(local: { year: number; month: number; day: number; hour: number; minute: number }, timeZone: string): Date {
  const wall = Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute);
  // Zones change their offset at most once around a given day: the offsets a day before and a
  // day after are the two that can apply (equal on most days).
  const before = offsetMs(new Date(wall - 86_400_000), timeZone);
  const after = offsetMs(new Date(wall + 86_400_000), timeZone);
  const shows = (t: number) => t + offsetMs(new Date(t), timeZone) === wall;
  const candidates = [wall - before, wall - after].sort((a, b) => a - b);
  const found = candidates.find(shows);
  // None shows it: a time skipped by a jump forward, taken with the offset before the jump.
  return new Date(found ?? wall - before);
}

/** The calendar day after `day` (local date arithmetic, month and year roll over). */
export function nextDay({ year, month, day }: { year: number; month: number; day: number }): { year: number; month: number; day: number } {
  const d = new Date(Date.UTC(year, month - 1, day + 1));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}
