import type { Queryable } from "@lifecycle/db";
import { DEFAULT_MAX_FUTURE_SKEW_MS } from "@lifecycle/events";

/**
 * The engine's "now" (CONTRACT.md section 2). `wall`: the machine's time, for production.
 * `watermark`: the latest event time seen, for replays and backfills, so replaying history gives
 * the stages that history implies rather than "everything churned" at today's date.
 */
export type ClockMode = "wall" | "watermark";

export function createClock({ mode, wallNow = () => new Date(), maxFutureSkewMs = DEFAULT_MAX_FUTURE_SKEW_MS }: { mode: ClockMode; wallNow?: () => Date; maxFutureSkewMs?: number }) {
  return {
    mode,
    /**
     * The time to evaluate a batch at, after recording events up to `latestEventTime` from the
     * given input partitions (`slots`). In watermark mode this moves each slot's watermark forward
     * (never back, and never past wall time + the future skew) in the batch's transaction. Each
     * input partition has its own row, so batches of different partitions never wait for each
     * other here; the clock is the maximum over the rows, committed ones plus this transaction's.
     */
    async advance(tx: Queryable, latestEventTime: Date, slots: readonly string[] = ["default"]): Promise<Date> {
      if (mode === "wall") return wallNow();
      const capped = new Date(Math.min(latestEventTime.getTime(), wallNow().getTime() + maxFutureSkewMs));
      const r = await tx.query<{ watermark: Date }>(
        `WITH moved AS (
           INSERT INTO lifecycle_watermarks (slot, watermark)
           SELECT slot, $2 FROM unnest($1::text[]) AS slot ORDER BY slot
           ON CONFLICT (slot) DO UPDATE SET watermark = greatest(lifecycle_watermarks.watermark, EXCLUDED.watermark)
           RETURNING watermark)
         SELECT greatest((SELECT max(watermark) FROM moved), (SELECT max(watermark) FROM lifecycle_watermarks)) AS watermark`,
        [[...new Set(slots)], capped],
      );
      return r.rows[0]?.watermark ?? capped;
    },
    /** The time now, for sweeps and refits; undefined in watermark mode before any event. */
    async read(db: Queryable): Promise<Date | undefined> {
      if (mode === "wall") return wallNow();
      const r = await db.query<{ watermark: Date | null }>("SELECT max(watermark) AS watermark FROM lifecycle_watermarks");
      return r.rows[0]?.watermark ?? undefined;
    },
  };
}
export type Clock = ReturnType<typeof createClock>;
