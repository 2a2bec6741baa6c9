import { performance } from "node:perf_hooks";
import { inTransaction, withClient, withTransaction, type OutboxRepo, type Pool } from "@lifecycle/db";
import { fitBgNbd, fitGammaGamma, type BgNbdFit, type EngineSettings, type GammaGammaFit } from "@lifecycle/domain";
import type { Clock } from "./clock.js";
import { evaluateCustomers } from "./evaluate-customers.js";
import type { ModelCache, ModelsRepo } from "./models.repo.js";

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
}

export type RefitResult =
  | { fitted: false; why: string }
  | { fitted: true; now: Date; bgNbd: BgNbdFit; gammaGamma?: GammaGammaFit | undefined; fitMs: number; reevaluated: number; reevaluateMs: number };

/**
 * Fits BG/NBD and Gamma-Gamma by maximum likelihood on every purchasing customer as of the clock
 * (same-day purchases merged, time in weeks), stores the parameters with fit time, sample size
 * and log-likelihood, then refreshes every customer's prediction and stage with them.
 */
export async function refitModels({ pool, outbox, clock, repo, cache, settings, minCustomers = 50, batchSize = 2000 }: RefitDeps): Promise<RefitResult> {
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

  const t0 = performance.now();
  const bgNbd = fitBgNbd({ customers: rows.map((r) => ({ x: r.x, tx: r.tx_days / DAYS_PER_UNIT, T: r.t_days / DAYS_PER_UNIT })) });
  const spenders = rows.filter((r) => r.x >= 1 && r.zbar > 0).map((r) => ({ x: r.x, zbar: r.zbar }));
  // Gamma-Gamma needs some repeat buyers; without it, values are not predicted (purchases still are).
  const gammaGamma = spenders.length >= Math.min(minCustomers, 20) ? fitGammaGamma({ customers: spenders }) : undefined;
  const fitMs = performance.now() - t0;

  await withTransaction(pool, async (tx) => {
    const meta = { calibrationEnd: now, durationMs: fitMs, timeUnitDays: DAYS_PER_UNIT };
    await repo.saveBgNbd(bgNbd, meta, tx);
    if (gammaGamma) await repo.saveGammaGamma(gammaGamma, meta, tx);
  });
  cache.invalidate();

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
  return { fitted: true, now, bgNbd, gammaGamma, fitMs, reevaluated, reevaluateMs: performance.now() - t1 };
}
