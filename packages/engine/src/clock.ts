import type { Queryable } from "@lifecycle/db";

/**
 * The engine's "now" (CONTRACT.md section 2). `wall`: the machine's time, for production.
 * `watermark`: the latest event time seen, for replays and backfills, so replaying history gives
 * the stages that history implies rather than "everything churned" at today's date.
 */
export type ClockMode = "wall" | "watermark";

export function createClock({ mode, wallNow = () => new Date() }: { mode: ClockMode; wallNow?: () => Date }) {
  return {
    mode,
    /**
     * The time to evaluate a batch at, after recording events up to `latestEventTime`. In
     * watermark mode this moves the watermark forward (never back) in the batch's transaction.
     */
    async advance(tx: Queryable, latestEventTime: Date): Promise<Date> {
      if (mode === "wall") return wallNow();
      const r = await tx.query<{ watermark: Date }>(
        `INSERT INTO lifecycle_clock (singleton, watermark) VALUES (true, $1)
         ON CONFLICT (singleton) DO UPDATE SET watermark = greatest(lifecycle_clock.watermark, EXCLUDED.watermark)
         RETURNING watermark`,
        [latestEventTime],
      );
      return r.rows[0]?.watermark ?? latestEventTime;
    },
    /** The time now, for sweeps and refits; undefined in watermark mode before any event. */
    async read(db: Queryable): Promise<Date | undefined> {
      if (mode === "wall") return wallNow();
      const r = await db.query<{ watermark: Date }>("SELECT watermark FROM lifecycle_clock");
      return r.rows[0]?.watermark;
    },
  };
}
export type Clock = ReturnType<typeof createClock>;
