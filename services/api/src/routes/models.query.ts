// The fitted CLV models as the refit stored them in `clv_models` (issue 13, point 4): the current
// count and spend models, the history newest first, and the P(alive) distribution of the customers
// the current count model predicted. Fixed SQL texts, every value a bind parameter. The JSON
// columns come back as stored; the routes give them their schema.
import { z } from "zod";
import type { Queryable } from "@lifecycle/db";

const COLUMNS = `id, kind, status, reason, reason_detail, params, log_likelihood, sample_size, iterations, converged,
  time_unit_days, calibration_end, fitted_at, duration_ms`;

/**
 * The applied models, as evaluations read them (models.repo.ts `latest`): the newest accepted
 * count model (BG/NBD or Pareto/NBD, whichever the last refit applied) and the newest accepted
 * Gamma-Gamma. With the applied count model's holdout validation and model choice.
 */
const CURRENT_SQL = `
(SELECT ${COLUMNS}, validation, selection FROM clv_models
  WHERE status = 'accepted' AND kind IN ('bgnbd', 'paretonbd') ORDER BY id DESC LIMIT 1)
UNION ALL
(SELECT ${COLUMNS}, validation, selection FROM clv_models
  WHERE status = 'accepted' AND kind = 'gamma-gamma' ORDER BY id DESC LIMIT 1)`;

/**
 * Every fitted model, newest first, keyset-paged by id ($1: ids below it, NULL for the first page;
 * $2 rows). The holdout validation only as its summary: its tables and tracking series are the
 * bulk of a row, and the history shows one line per fit.
 */
const HISTORY_SQL = `
SELECT ${COLUMNS},
       validation IS NOT NULL AS validated,
       validation->>'skipped' AS skipped,
       (validation->>'holdoutShare')::float8 AS holdout_share,
       (validation->>'meanAbsoluteError')::float8 AS mean_absolute_error,
       (validation->>'correlation')::float8 AS correlation
  FROM clv_models
 WHERE $1::bigint IS NULL OR id < $1::bigint
 ORDER BY id DESC
 LIMIT $2`;

/** Ten bins of width 0.1 over [0, 1] (the last one closed: P(alive) = 1 is a one-time buyer's under BG/NBD). $1 the count model's id. */
export const P_ALIVE_BINS = 10;
const P_ALIVE_SQL = `
SELECT least(greatest(width_bucket(p_alive, 0, 1, ${P_ALIVE_BINS}), 1), ${P_ALIVE_BINS}) AS bin, count(*)::int AS customers
  FROM customers
 WHERE clv_model_id = $1 AND p_alive IS NOT NULL
 GROUP BY 1 ORDER BY 1`;

const ModelRow = z.object({
  id: z.number().int(),
  kind: z.enum(["bgnbd", "paretonbd", "gamma-gamma"]),
  status: z.enum(["accepted", "rejected", "not-chosen"]),
  reason: z.string().nullable(),
  reason_detail: z.string().nullable(),
  params: z.record(z.string(), z.number()),
  log_likelihood: z.number(),
  sample_size: z.number().int(),
  iterations: z.number().int(),
  converged: z.boolean(),
  time_unit_days: z.number(),
  calibration_end: z.date(),
  fitted_at: z.date(),
  duration_ms: z.number().int(),
});
export type ModelRow = z.infer<typeof ModelRow>;

const CurrentRow = ModelRow.extend({ validation: z.unknown(), selection: z.unknown() });
export type CurrentRow = z.infer<typeof CurrentRow>;

const HistoryRow = ModelRow.extend({
  validated: z.boolean(),
  skipped: z.string().nullable(),
  holdout_share: z.number().nullable(),
  mean_absolute_error: z.number().nullable(),
  correlation: z.number().nullable(),
});
export type HistoryRow = z.infer<typeof HistoryRow>;

/** The applied count model and Gamma-Gamma, each undefined before its first accepted fit. */
export async function currentModels(db: Queryable): Promise<{ count: CurrentRow | undefined; spend: CurrentRow | undefined }> {
  const rows = (await db.query<Record<string, unknown>>(CURRENT_SQL)).rows.map((r) => CurrentRow.parse(r));
  return { count: rows.find((r) => r.kind !== "gamma-gamma"), spend: rows.find((r) => r.kind === "gamma-gamma") };
}

/** Up to `limit` models with ids below `before` (all when undefined), newest first. */
export async function modelHistory(db: Queryable, { before, limit }: { before: number | undefined; limit: number }): Promise<HistoryRow[]> {
  const { rows } = await db.query<Record<string, unknown>>(HISTORY_SQL, [before ?? null, limit]);
  return rows.map((r) => HistoryRow.parse(r));
}

/** Customers per P(alive) bin among those whose prediction came from model `modelId`: all ten bins, empty ones 0. */
export async function pAliveDistribution(db: Queryable, modelId: number): Promise<{ from: number; to: number; customers: number }[]> {
  const { rows } = await db.query<{ bin: number; customers: number }>(P_ALIVE_SQL, [modelId]);
  return Array.from({ length: P_ALIVE_BINS }, (_, i) => ({
    from: i / P_ALIVE_BINS,
    to: (i + 1) / P_ALIVE_BINS,
    customers: rows.find((r) => r.bin === i + 1)?.customers ?? 0,
  }));
}
