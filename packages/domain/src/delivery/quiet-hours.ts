import { instantAt, localParts, nextDay } from "./local-time.js";

/** Local hours in which no message goes out, e.g. 21:00 to 08:00 (may span midnight). */
export interface QuietHours {
  /** "HH:MM" local: quiet from here ... */
  start: string;
  /** ... until here ("HH:MM" local). Equal to `start`: no quiet hours. */
  end: string;
}

const minutesOf = (hhmm: string): number => {
  const [h = 0, m = 0] = hhmm.split(":").map(Number);
  return h * 60 + m;
};

/**
 * When a message due at `now` may go, for a customer in `timeZone`: undefined when `now` is
 * outside the quiet hours, else the instant they end (deferred, never dropped).
 */
export function quietHoursEnd(now: Date, timeZone: string, quiet: QuietHours): Date | undefined {
  const start = minutesOf(quiet.start);
  const end = minutesOf(quiet.end);
  if (start === end) return undefined;
  const local = localParts(now, timeZone);
  const minute = local.hour * 60 + local.minute;
  const spansMidnight = start > end;
  const inside = spansMidnight ? minute >= start || minute < end : minute >= start && minute < end;
  if (!inside) return undefined;
  // The end is today, unless we are in the evening part of a window that ends tomorrow morning.
  const endDay = spansMidnight && minute >= start ? nextDay(local) : local;
  return instantAt({ ...endDay, hour: Math.floor(end / 60), minute: end % 60 }, timeZone);
}
