import { performance } from "node:perf_hooks";
import { inTransaction, withClient, withTransaction, type OutboxRepo, type Pool } from "@lifecycle/db";
import {
  chooseModel,
  COUNT_MODEL_KINDS,
  fitCountModel,
  fitGammaGamma,
  judgeFit,
  type CountModelFit,
  type CountModelKind,
  type EngineSettings,
  type FitJudgement,
  type FitRejectionReason,
  type GammaGammaFit,
  type ModelChoice,
  type ModelSetting,
} from "@lifecycle/domain";
import type { Clock } from "./clock.js";
import { evaluateCustomers } from "./evaluate-customers.js";
import type { ModelCache, ModelsRepo } from "./models.repo.js";
import { validateCountModelsOnHoldout, type KindValidation } from "./refit-holdout.js";

/** The models' time unit: weeks, as in every published CDNOW figure (notes/clv-models.md). */
export const DAYS_PER_UNIT = 7;

export interface RefitDeps {
  pool: Pool;
  outbox: OutboxRepo;
  clock: Clock;
  repo: ModelsRepo;
  cache: ModelCache;
  settings: EngineSettings;
  /** Fewer purchasing customers than this and the fit is skipped. @defaultValue 50 */
  minCustomers?: number;
  /** Customers per transaction when refreshing everyone's predictions. @defaultValue 2000 */
  batchSize?: number;
  /** A fit on fewer repeat buyers than this is rejected (CLV_MIN_REPEAT_BUYERS). @defaultValue 30 */
  minRepeatBuyers?: number;
  /** The last share of the observed period held out to validate the fit (CLV_HOLDOUT_SHARE); 0: none. @defaultValue 0.25 */
  holdoutShare?: number;
  /** The purchase-count model (CLV_MODEL): one, or `auto` for the lower holdout error. @defaultValue auto */
  model?: ModelSetting;
}

export type ModelKind = CountModelKind | "gamma-gamma";
export type FitRejection = { model: ModelKind; reason: FitRejectionReason; detail: string };

/** One count model's fit on all the data, its guard verdict and holdout validation, and what became of it. */
export type CountFitOutcome = {
  kind: CountModelKind;
  fit: CountModelFit;
  judgement: FitJudgement;
  validation: KindValidation["validation"] | undefined;
  status: "accepted" | "rejected" | "not-chosen";
};

/**
 * The refit's comparison of the count models (issue 13, point 3), stored with the applied model and
 * shown on the Models page: the setting, each candidate's holdout MAE or rejection, the choice and
 * its sentence, and every candidate's validation (the applied one's is also the row's `validation`).
 */
export type StoredSelection = {
  setting: ModelSetting;
  candidates: { model: CountModelKind; mae: number | null; rejected: string | null }[];
  choice: { model: CountModelKind | null; why: string };
  validations: KindValidation[];
};

export type RefitResult =
  | { fitted: false; why: string }
  | {
      fitted: true;
      now: Date;
      /** Purchasing customers the count models were fitted on. */
      sampleSize: number;
      /** Every count model fitted (one, or both under `auto`). */
      countFits: CountFitOutcome[];
      /** The count model applied, if any (none: every candidate rejected; the previous model stays). */
      countModel: CountModelKind | undefined;
      selection: StoredSelection;
      gammaGamma?: GammaGammaFit | undefined;
      /** Fits the guard rejected: stored with their reason, not applied (the previous model of the kind stays). */
      rejected: FitRejection[];
      /** Kinds stored as the new current model. */
      applied: ModelKind[];
      fitMs: number;
      reevaluated: number;
      reevaluateMs: number;
    };

/**
 * Fits the purchase-count models CLV_MODEL allows (BG/NBD, Pareto/NBD, or both) and Gamma-Gamma by
 * maximum likelihood on every purchasing customer as of the clock (same-day purchases merged, time
 * in weeks), and judges each fit (judgeFit). Each acceptable count model is validated on the
 * holdout, and chooseModel picks the one to apply (under `auto`, the lower holdout MAE). The applied
 * models are stored with fit time, sample size, log-likelihood, validation and the comparison, and
 * every customer's prediction and stage is refreshed; a rejected fit is stored with its reason only,
 * an acceptable one passed over as `not-chosen`, and customers keep the previous model of a kind
 * with nothing new to apply.
 */
export async function refitModels({
  pool,
  outbox,
  clock,
  repo,
  cache,
  settings,
  minCustomers = 50,
  batchSize = 2000,
  minRepeatBuyers = 30,
  holdoutShare = 0.25,
  model: setting = "auto",
}: RefitDeps): Promise<RefitResult> {
  const now = await clock.read(pool);
  if (!now) return { fitted: false, why: "no event seen yet (watermark clock)" };
  const rows = (
    await pool.query<{ x: number; tx_days: number; t_days: number; zbar: number }>(
      `SELECT purchase_days - 1 AS x,
              ((last_purchase_at AT TIME ZONE 'UTC')::date - (first_purchase_at AT TIME ZONE 'UTC')::date) AS tx_days,
              greatest(($1::timestamptz AT TIME ZONE 'UTC')::date - (first_purchase_at AT TIME ZONE 'UTC')::date,
                       (last_purchase_at AT TIME ZONE 'UTC')::date - (first_purchase_at AT TIME ZONE 'UTC')::date) AS t_days,
              repeat_day_spend_mean::float8 AS zbar
         FROM customers WHERE purchase_days >= 1`,
      [now],
    )
  ).rows;
  if (rows.length < minCustomers) return { fitted: false, why: `${rows.length} purchasing customers, fewer than ${minCustomers}` };

  const guard = { minRepeatBuyers };
  const t0 = performance.now();
  const customers = rows.map((r) => ({ x: r.x, tx: r.tx_days / DAYS_PER_UNIT, T: r.t_days / DAYS_PER_UNIT }));
  const repeatBuyers = rows.filter((r) => r.x >= 1).length;
  const kinds = setting === "auto" ? COUNT_MODEL_KINDS : [setting];
  const fits = kinds.map((kind) => {
    const fit = fitCountModel({ kind, customers });
    const judgement = judgeFit({ params: fit.model.spec.params, logLikelihood: fit.logLikelihood, converged: fit.converged, repeatBuyers }, guard);
    return { kind, fit, judgement };
  });
  // Validated only when acceptable: a validation fits the model again on the calibration window.
  const toValidate = fits.filter((f) => f.judgement.accepted).map((f) => f.kind);
  const validations = holdoutShare > 0 && toValidate.length > 0
    ? await validateCountModelsOnHoldout({ db: pool, now, holdoutShare, daysPerUnit: DAYS_PER_UNIT, guard, minCustomers, kinds: toValidate })
    : [];
  const validationOf = (kind: CountModelKind): KindValidation["validation"] | undefined => validations.find((v) => v.kind === kind)?.validation;
  const candidates = fits.map(({ kind, judgement }) => {
    const validation = validationOf(kind);
    return {
      model: kind,
      mae: validation && !("skipped" in validation) ? validation.meanAbsoluteError : undefined,
      rejected: judgement.accepted ? undefined : `${judgement.reason} (${judgement.detail})`,
    };
  });
  const choice: ModelChoice = chooseModel({ setting, candidates });
  const selection: StoredSelection = {
    setting,
    candidates: candidates.map((c) => ({ model: c.model, mae: c.mae ?? null, rejected: c.rejected ?? null })),
    choice: { model: choice.model ?? null, why: choice.why },
    validations,
  };
  const countFits: CountFitOutcome[] = fits.map(({ kind, fit, judgement }) => ({
    kind,
    fit,
    judgement,
    validation: validationOf(kind),
    status: !judgement.accepted ? "rejected" : kind === choice.model ? "accepted" : "not-chosen",
  }));

  const spenders = rows.filter((r) => r.x >= 1 && r.zbar > 0).map((r) => ({ x: r.x, zbar: r.zbar }));
  // Gamma-Gamma needs repeat buyers; without any there is nothing to fit (purchases are still predicted).
  const gammaGamma = spenders.length > 0 ? fitGammaGamma({ customers: spenders }) : undefined;
  const gammaGammaJudgement = gammaGamma && judgeFit({ params: { p: gammaGamma.p, q: gammaGamma.q, gamma: gammaGamma.gamma }, logLikelihood: gammaGamma.logLikelihood, converged: gammaGamma.converged, repeatBuyers: spenders.length }, guard);
  const fitMs = performance.now() - t0;

  await withTransaction(pool, async (tx) => {
    const meta = { calibrationEnd: now, durationMs: fitMs, timeUnitDays: DAYS_PER_UNIT };
    for (const outcome of countFits) {
      await repo.saveCount(outcome.fit, {
        ...meta,
        judgement: outcome.judgement,
        notChosen: outcome.status === "not-chosen" ? choice.why : undefined,
        validation: outcome.validation,
        selection: outcome.status === "accepted" ? selection : undefined,
      }, tx);
    }
    if (gammaGamma) await repo.saveGammaGamma(gammaGamma, { ...meta, judgement: gammaGammaJudgement }, tx);
  });
  cache.invalidate();
  const rejected: FitRejection[] = [];
  const applied: ModelKind[] = [];
  const judged: [ModelKind, FitJudgement | undefined][] = [...countFits.map((o): [ModelKind, FitJudgement] => [o.kind, o.judgement]), ["gamma-gamma", gammaGammaJudgement]];
  for (const [model, judgement] of judged) {
    if (!judgement) continue;
    if (!judgement.accepted) rejected.push({ model, reason: judgement.reason, detail: judgement.detail });
    else if (model === "gamma-gamma" || model === choice.model) applied.push(model);
  }
  const done = { fitted: true as const, now, sampleSize: rows.length, countFits, countModel: choice.model, selection, gammaGamma, rejected, applied, fitMs };
  // Nothing new to apply: customers keep their predictions (no re-evaluation, no wave of changes).
  if (applied.length === 0) return { ...done, reevaluated: 0, reevaluateMs: 0 };

  // Refresh everyone with the new models, in keyset-paged batches of short transactions.
  const t1 = performance.now();
  const models = await cache.get();
  let reevaluated = 0;
  let after = "";
  await withClient(pool, async (client) => {
    for (;;) {
      const n = await inTransaction(client, async (tx) => {
        const ids = (await tx.query<{ customer_id: string }>("SELECT customer_id FROM customers WHERE customer_id > $1 ORDER BY customer_id LIMIT $2", [after, batchSize])).rows.map((r) => r.customer_id);
        const last = ids[ids.length - 1];
        if (last !== undefined) after = last;
        return (await evaluateCustomers({ tx, outbox, customerIds: ids, now, models, settings })).evaluated;
      });
      reevaluated += n;
      if (n < batchSize) break;
    }
  });
  return { ...done, reevaluated, reevaluateMs: performance.now() - t1 };
}
