import { z } from "zod";
import type { Queryable } from "@lifecycle/db";
import { countModel, type CountModelFit, type FitJudgement, type FittedModels, type GammaGammaFit } from "@lifecycle/domain";

const positive = z.number().positive();
const CountRow = z.object({
  id: z.number(),
  time_unit_days: z.number(),
  spec: z.discriminatedUnion("kind", [
    z.object({ kind: z.literal("bgnbd"), params: z.object({ r: positive, alpha: positive, a: positive, b: positive }) }),
    z.object({ kind: z.literal("paretonbd"), params: z.object({ r: positive, alpha: positive, s: positive, beta: positive }) }),
  ]),
});
const GammaGammaRow = z.object({ id: z.number(), params: z.object({ p: positive, q: positive, gamma: positive }) });

/** How a fitted model's row is kept: applied, rejected by the guard, or an acceptable fit the model choice passed over. */
export type ModelStatus = "accepted" | "rejected" | "not-chosen";

export interface StoredFit {
  calibrationEnd: Date;
  durationMs: number;
  timeUnitDays: number;
  /** The fit guard's verdict; a rejected fit is stored for the record and never read. @defaultValue accepted */
  judgement?: FitJudgement;
  /** An acceptable count-model fit that the model choice did not apply, and the choice's sentence. */
  notChosen?: string | undefined;
  /** The refit's holdout validation (JSON), stored with the model it validates. */
  validation?: unknown;
  /** The refit's comparison of the count models (JSON), stored with the count model it applied. */
  selection?: unknown;
}

/**
 * Fitted population models in `clv_models`: the refit job adds rows, accepted or rejected by the
 * fit guard; evaluations read the newest accepted one of each kind.
 */
export function createModelsRepo(db: Queryable) {
  return {
    /** The newest applied count model (BG/NBD or Pareto/NBD: one family, whichever the last refit chose) and Gamma-Gamma. */
    async latest(tx: Queryable = db): Promise<FittedModels> {
      const r = await tx.query<{ id: number; kind: string; params: unknown; time_unit_days: number }>(
        `SELECT DISTINCT ON (kind = 'gamma-gamma') id, kind, params, time_unit_days FROM clv_models
          WHERE status = 'accepted' ORDER BY kind = 'gamma-gamma', id DESC`,
      );
      const count = r.rows.find((row) => row.kind !== "gamma-gamma");
      const gg = r.rows.find((row) => row.kind === "gamma-gamma");
      const countRow = count ? CountRow.parse({ ...count, spec: { kind: count.kind, params: count.params } }) : undefined;
      const ggRow = gg ? GammaGammaRow.parse(gg) : undefined;
      return {
        count: countRow && { id: countRow.id, model: countModel(countRow.spec), daysPerUnit: countRow.time_unit_days },
        gammaGamma: ggRow && { id: ggRow.id, params: ggRow.params },
      };
    },

    async saveCount(fit: CountModelFit, meta: StoredFit, tx: Queryable = db): Promise<number> {
      const { kind, params } = fit.model.spec;
      return insert(tx, kind, params, fit, meta);
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
  const [status, reason, detail]: [ModelStatus, string | null, string | null] = rejected
    ? ["rejected", rejected.reason, rejected.detail]
    : meta.notChosen !== undefined
      ? ["not-chosen", "not-chosen", meta.notChosen]
      : ["accepted", null, null];
  const json = (value: unknown): string | null => (value === undefined ? null : JSON.stringify(value));
  const r = await tx.query<{ id: number }>(
    `INSERT INTO clv_models (kind, params, log_likelihood, sample_size, iterations, converged, time_unit_days, calibration_end, duration_ms,
                             status, reason, reason_detail, validation, selection)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id`,
    [
      kind, JSON.stringify(params), fit.logLikelihood, fit.sampleSize, fit.iterations, fit.converged, meta.timeUnitDays, meta.calibrationEnd, Math.round(meta.durationMs),
      status, reason, detail, json(meta.validation), json(meta.selection),
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
