const DAY_MS = 86_400_000;

/**
 * The dedupe window retention applies: EVENT_DEDUPE_WINDOW_DAYS, or longer while an input topic can
 * keep an event longer (`longestKeptMs`, Infinity: without limit), since a record the consumer reads
 * again (a group reset, a new group) must still be a duplicate. Infinity: event ids are never deleted.
 */
export function dedupeWindowDays(configuredDays: number, longestKeptMs: number | undefined): number {
  if (longestKeptMs === undefined) return configuredDays;
  return Math.max(configuredDays, Math.ceil(longestKeptMs / DAY_MS));
}
