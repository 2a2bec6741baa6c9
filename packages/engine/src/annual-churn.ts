import { z } from "zod";
import type { Queryable } from "@lifecycle/db";
import type { MeasuredChurn } from "@lifecycle/domain";
import { ChurnRow, loadFamily } from "./measures/measures-rows.js";
import { CHURN_COUNTS } from "./measures/measures.sql.js";

// The base's annual churn rate, for the simple CLV's lifespan (1 ÷ rate). Measured with the churn
// measure's own statement over the year before the clock, stored, and read by the evaluations
// through a per-process cache (createAnnualChurnCache): the measure scans a year of stage changes,
// which the ingest path must not do per batch, and the stored row changes at most daily.

const DAY_MS = 86_400_000;
const YEAR_MS = 365 * DAY_MS;
/** How often, in clock time, the rate is measured again: it moves slowly. */
export const ANNUAL_CHURN_REFRESH_MS = DAY_MS;

const Stored = z.object({ annual_rate: z.number().nullable(), history_days: z.number(), measured_at: z.date() });

/** The newest measurement; undefined when there is none or nobody was active a year before it. */
export async function loadAnnualChurn(db: Queryable): Promise<MeasuredChurn | undefined> {
  const { rows } = await db.query("SELECT annual_rate, history_days, measured_at FROM annual_churn ORDER BY id DESC LIMIT 1");
  const row = rows[0] === undefined ? undefined : Stored.parse(rows[0]);
  return row && row.annual_rate !== null ? { annualRate: row.annual_rate, historyDays: row.history_days } : undefined;
}

/**
 * The newest measurement, re-read at most every `ttlMs` (CLV_MODEL_CACHE_MS, as the models): every
 * batch's evaluation needs it, and it changes at most daily, when the sweep (possibly in another
 * process) stores a new one. The process that stores one invalidates its own cache.
 */
export function createAnnualChurnCache({ ttlMs, now = () => Date.now() }: { ttlMs: number; now?: () => number }) {
  let cached: { churn: MeasuredChurn | undefined; at: number } | undefined;
  return {
    async get(db: Queryable): Promise<MeasuredChurn | undefined> {
      if (cached && now() - cached.at < ttlMs) return cached.churn;
      const churn = await loadAnnualChurn(db);
      cached = { churn, at: now() };
      return churn;
    },
    invalidate() {
      cached = undefined;
    },
  };
}
export type AnnualChurnCache = ReturnType<typeof createAnnualChurnCache>;

/**
 * Measures the churn over [now − 365 days, now) (lost ÷ active at the start, as the churn measure
 * counts them) and stores it, unless the newest measurement is less than a day of clock time old.
 * Returns whether a row was stored (a measurement without a rate is stored too, and then
 * replaces the previous rate) and the rate stored, if any.
 */
export async function refreshAnnualChurn(db: Queryable, now: Date): Promise<{ stored: boolean; churn?: MeasuredChurn | undefined }> {
  const last = await db.query("SELECT measured_at FROM annual_churn ORDER BY id DESC LIMIT 1");
  const lastAt = last.rows[0] === undefined ? undefined : Stored.pick({ measured_at: true }).parse(last.rows[0]).measured_at;
  if (lastAt && now.getTime() - lastAt.getTime() < ANNUAL_CHURN_REFRESH_MS) return { stored: false };

  const from = new Date(now.getTime() - YEAR_MS);
  const counts = (await loadFamily(db, CHURN_COUNTS, [from, now, null], ChurnRow)).get(null) ?? { active_at_start: 0, lost: 0 };
  const first = await db.query("SELECT min(event_time) AS first FROM stage_transitions");
  const firstAt = z.object({ first: z.date().nullable() }).parse(first.rows[0]).first;
  const historyDays = firstAt ? Math.max(0, (now.getTime() - firstAt.getTime()) / DAY_MS) : 0;
  // The churn measure's formula as a fraction (lost ÷ active at start), null with nobody active.
  const annualRate = counts.active_at_start > 0 ? counts.lost / counts.active_at_start : null;
  await db.query("INSERT INTO annual_churn (measured_at, active_at_start, lost, annual_rate, history_days) VALUES ($1, $2, $3, $4, $5)", [
    now,
    counts.active_at_start,
    counts.lost,
    annualRate,
    historyDays,
  ]);
  return { stored: true, churn: annualRate === null ? undefined : { annualRate, historyDays } };
}
