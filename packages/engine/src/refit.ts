import { performance } from "node:perf_hooks";
import { inTransaction, withClient, withTransaction, type OutboxRepo, type Pool } from "@lifecycle/db";
import { fitBgNbd, fitGammaGamma, judgeFit, type BgNbdFit, type EngineSettings, type FitRejectionReason, type GammaGammaFit } from "@lifecycle/domain";
import type { Clock } from "./clock.js";
import { evaluateCustomers } from "./evaluate-customers.js";
import type { ModelCache, ModelsRepo } from "./models.repo.js";
import { validateBgNbdOnHoldout, type StoredValidation } from "./refit-holdout.js";

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
}

export type ModelKind = "bgnbd" | "gamma-gamma";
export type FitRejection = { model: ModelKind; reason: FitRejectionReason; detail: string };

export type RefitResult =
  | { fitted: false; why: string }
  | {
      fitted: true;
      now: Date;
      bgNbd: BgNbdFit;
      gammaGamma?: GammaGammaFit | undefined;
      /** Fits the guard rejected: stored with their reason, not applied (the previous model of the kind stays). */
      rejected: FitRejection[];
      /** Kinds stored as the new current model. */
      applied: ModelKind[];
      validation?: StoredValidation | undefined;
      fitMs: number;
      reevaluated: number;
      reevaluateMs: number;
    };

/**
 * Fits BG/NBD and Gamma-Gamma by maximum likelihood on every purchasing customer as of the clock
 * (same-day purchases merged, time in weeks) and judges each fit (judgeFit): an accepted one is
 * stored with fit time, sample size, log-likelihood and the holdout validation and applied, by
 * refreshing every customer's prediction and stage; a rejected one is stored with its reason
 * only, and customers keep the previous model.
 */
export async function refitModels({ pool, outbox, clock, repo, cache, settings, minCustomers = 50, batchSize = 2000, minRepeatBuyers = 30, holdoutShare = 0.25 }: RefitDeps): Promise<RefitResult> {
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
  const bgNbd = fitBgNbd({ customers: rows.map((r) => ({ x: r.x, tx: r.tx_days / DAYS_PER_UNIT, T: r.t_days / DAYS_PER_UNIT })) });
  const bgNbdJudgement = judgeFit({ params: { r: bgNbd.r, alpha: bgNbd.alpha, a: bgNbd.a, b: bgNbd.b }, logLikelihood: bgNbd.logLikelihood, converged: bgNbd.converged, repeatBuyers: rows.filter((r) => r.x >= 1).length }, guard);
  const spenders = rows.filter((r) => r.x >= 1 && r.zbar > 0).map((r) => ({ x: r.x, zbar: r.zbar }));
  // Gamma-Gamma needs repeat buyers; without any there is nothing to fit (purchases are still predicted).
  const gammaGamma = spenders.length > 0 ? fitGammaGamma({ customers: spenders }) : undefined;
  const gammaGammaJudgement = gammaGamma && judgeFit({ params: { p: gammaGamma.p, q: gammaGamma.q, gamma: gammaGamma.gamma }, logLikelihood: gammaGamma.logLikelihood, converged: gammaGamma.converged, repeatBuyers: spenders.length }, guard);
  // Validated only when it is to be applied: the validation's own fit doubles the work.
  const validation = bgNbdJudgement.accepted && holdoutShare > 0
    ? await validateBgNbdOnHoldout({ db: pool, now, holdoutShare, daysPerUnit: DAYS_PER_UNIT, guard, minCustomers })
    : undefined;
  const fitMs = performance.now() - t0;

  await withTransaction(pool, async (tx) => {
    const meta = { calibrationEnd: now, durationMs: fitMs, timeUnitDays: DAYS_PER_UNIT };
    await repo.saveBgNbd(bgNbd, { ...meta, judgement: bgNbdJudgement, validation }, tx);
    if (gammaGamma) await repo.saveGammaGamma(gammaGamma, { ...meta, judgement: gammaGammaJudgement }, tx);
  });
  cache.invalidate();
  const rejected: FitRejection[] = [];
  const applied: ModelKind[] = [];
  for (const [model, judgement] of [["bgnbd", bgNbdJudgement], ["gamma-gamma", gammaGammaJudgement]] as const) {
    if (!judgement) continue;
    if (judgement.accepted) applied.push(model);
    else rejected.push({ model, reason: judgement.reason, detail: judgement.detail });
  }
  const done = { fitted: true as const, now, bgNbd, gammaGamma, rejected, applied, validation, fitMs };
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
