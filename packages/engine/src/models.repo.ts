import { z } from "zod";
import type { Queryable } from "@lifecycle/db";
import type { BgNbdFit, FitJudgement, FittedModels, GammaGammaFit } from "@lifecycle/domain";

const positive = z.number().positive();
const BgNbdRow = z.object({ id: z.number(), time_unit_days: z.number(), params: z.object({ r: positive, alpha: positive, a: positive, b: positive }) });
const GammaGammaRow = z.object({ id: z.number(), params: z.object({ p: positive, q: positive, gamma: positive }) });

export interface StoredFit {
  calibrationEnd: Date;
  durationMs: number;
  timeUnitDays: number;
  /** The fit guard's verdict; a rejected fit is stored for the record and never read. @defaultValue accepted */
  judgement?: FitJudgement;
  /** The refit's holdout validation (JSON), stored with the model it validates. */
  validation?: unknown;
}

/**
 * Fitted population models in `clv_models`: the refit job adds rows, accepted or rejected by the
 * fit guard; evaluations read the newest accepted one of each kind.
 */
export function createModelsRepo(db: Queryable) {
  return {
    async latest(tx: Queryable = db): Promise<FittedModels> {
      const r = await tx.query<{ id: number; kind: string; params: unknown; time_unit_days: number }>(
        "SELECT DISTINCT ON (kind) id, kind, params, time_unit_days FROM clv_models WHERE status = 'accepted' ORDER BY kind, id DESC",
      );
      const bg = r.rows.find((row) => row.kind === "bgnbd");
      const gg = r.rows.find((row) => row.kind === "gamma-gamma");
      const bgRow = bg ? BgNbdRow.parse(bg) : undefined;
      const ggRow = gg ? GammaGammaRow.parse(gg) : undefined;
      return {
        bgNbd: bgRow && { id: bgRow.id, params: bgRow.params, daysPerUnit: bgRow.time_unit_days },
        gammaGamma: ggRow && { id: ggRow.id, params: ggRow.params },
      };
    },

    async saveBgNbd(fit: BgNbdFit, meta: StoredFit, tx: Queryable = db): Promise<number> {
      const params = { r: fit.r, alpha: fit.alpha, a: fit.a, b: fit.b };
      return insert(tx, "bgnbd", params, fit, meta);
    },

    async saveGammaGamma(fit: GammaGammaFit, meta: StoredFit, tx: Queryable = db): Promise<number> {
      const params = { p: fit.p, q: fit.q, gamma: fit.gamma };
      return insert(tx, "gamma-gamma", params, fit, meta);
    },
  };
}
export type ModelsRepo = ReturnType<typeof createModelsRepo>;

async function insert(
  tx: Queryable,
  kind: string,
  params: Record<string, number>,
  fit: { logLikelihood: number; sampleSize: number; iterations: number; converged: boolean },
  meta: StoredFit,
): Promise<number> {
  const rejected = meta.judgement?.accepted === false ? meta.judgement : undefined;
  const r = await tx.query<{ id: number }>(
    `INSERT INTO clv_models (kind, params, log_likelihood, sample_size, iterations, converged, time_unit_days, calibration_end, duration_ms,
                             status, reason, reason_detail, validation)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id`,
    [
      kind, JSON.stringify(params), fit.logLikelihood, fit.sampleSize, fit.iterations, fit.converged, meta.timeUnitDays, meta.calibrationEnd, Math.round(meta.durationMs),
      rejected ? "rejected" : "accepted", rejected?.reason ?? null, rejected?.detail ?? null, meta.validation === undefined ? null : JSON.stringify(meta.validation),
    ],
  );
  const id = r.rows[0]?.id;
  if (id === undefined) throw new Error("clv_models insert returned no id");
  return id;
}

/**
 * The newest models, re-read at most every `ttlMs`: every batch needs them and they change only
 * when the refit job runs (possibly in another process).
 */
export function createModelCache({ repo, ttlMs, now = () => Date.now() }: { repo: ModelsRepo; ttlMs: number; now?: () => number }) {
  let cached: { models: FittedModels; at: number } | undefined;
  return {
    async get(tx?: Queryable): Promise<FittedModels> {
      if (cached && now() - cached.at < ttlMs) return cached.models;
      const models = await repo.latest(tx);
      cached = { models, at: now() };
      return models;
    },
    invalidate() {
      cached = undefined;
    },
  };
}
export type ModelCache = ReturnType<typeof createModelCache>;
