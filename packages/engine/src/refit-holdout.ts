import type { Queryable } from "@lifecycle/db";
import { conditionalExpectedTransactions, fitBgNbd, judgeFit, validateHoldout, type FitGuard, type HoldoutCustomer, type HoldoutValidation } from "@lifecycle/domain";

/** What the refit stores with its model: the validation and the calibration fit it scored, or why there is none. */
export type StoredValidation =
  | ({ calibrationEnd: string; holdoutShare: number; calibrationFit: { r: number; alpha: number; a: number; b: number; logLikelihood: number } } & HoldoutValidation)
  | { skipped: string; holdoutShare: number };

const MS_PER_DAY = 86_400_000;

/**
 * Holdout validation of BG/NBD for one refit: the observed period runs from the first purchase day
 * to `now`'s UTC day; its last `holdoutShare` (rounded to whole days) is the holdout. BG/NBD is fitted
 * on the purchases up to the calibration end (customers acquired by then, same-day purchases
 * merged, time in units of `daysPerUnit`) and scored on the holdout's distinct purchase days.
 * The applied model is still the fit on everything: this one only says how well such a fit
 * predicts what came next. A calibration fit the guard rejects is not scored.
 */
export async function validateBgNbdOnHoldout({ db, now, holdoutShare, daysPerUnit, guard, minCustomers }: {
  db: Queryable;
  now: Date;
  holdoutShare: number;
  daysPerUnit: number;
  guard: FitGuard;
  minCustomers: number;
}): Promise<StoredValidation> {
  const skipped = (why: string): StoredValidation => ({ skipped: why, holdoutShare });
  const nowDay = Math.floor(now.getTime() / MS_PER_DAY);
  const first = (await db.query<{ first: Date | null }>("SELECT min(first_purchase_at) AS first FROM customers")).rows[0]?.first;
  if (!first) return skipped("no purchases");
  const holdoutDays = Math.round(holdoutShare * (nowDay - Math.floor(first.getTime() / MS_PER_DAY)));
  if (holdoutDays < 1) return skipped(`a holdout of ${holdoutShare} of the observed period is shorter than a day`);
  const calibrationEnd = new Date((nowDay - holdoutDays) * MS_PER_DAY);

  // Per customer acquired by the calibration end: its calibration summary in days, and the
  // holdout's purchase days counted from the calibration end.
  const rows = (
    await db.query<{ x: number; tx_days: number; t_days: number; holdout_days: number[] | null }>(
      `WITH days AS (
         SELECT customer_id, (event_time AT TIME ZONE 'UTC')::date AS day FROM orders
          WHERE (event_time AT TIME ZONE 'UTC')::date <= $2::date
          GROUP BY 1, 2)
       SELECT (count(*) FILTER (WHERE day <= $1::date))::int - 1 AS x,
              max(day) FILTER (WHERE day <= $1::date) - min(day) AS tx_days,
              $1::date - min(day) AS t_days,
              array_agg(day - $1::date ORDER BY day) FILTER (WHERE day > $1::date) AS holdout_days
         FROM days GROUP BY customer_id HAVING min(day) <= $1::date`,
      [calibrationEnd.toISOString().slice(0, 10), new Date(nowDay * MS_PER_DAY).toISOString().slice(0, 10)],
    )
  ).rows;
  if (rows.length < minCustomers) return skipped(`${rows.length} customers acquired by the calibration end, fewer than ${minCustomers}`);
  const customers: HoldoutCustomer[] = rows.map((r) => ({
    x: r.x,
    tx: r.tx_days / daysPerUnit,
    T: r.t_days / daysPerUnit,
    holdoutTimes: (r.holdout_days ?? []).map((d) => d / daysPerUnit),
  }));

  const fit = fitBgNbd({ customers });
  const params = { r: fit.r, alpha: fit.alpha, a: fit.a, b: fit.b };
  const judgement = judgeFit({ params, logLikelihood: fit.logLikelihood, converged: fit.converged, repeatBuyers: customers.filter((c) => c.x > 0).length }, guard);
  if (!judgement.accepted) return skipped(`calibration fit rejected: ${judgement.reason} (${judgement.detail})`);
  const validation = validateHoldout({
    customers,
    holdoutLength: holdoutDays / daysPerUnit,
    // Any model plugs in here through its conditional expectation E[Y(t) | x, t_x, T].
    predict: (c, t) => conditionalExpectedTransactions({ params, ...c, t }),
    trackingStep: 7 / daysPerUnit,
  });
  return { calibrationEnd: calibrationEnd.toISOString(), holdoutShare, calibrationFit: { ...params, logLikelihood: fit.logLikelihood }, ...validation };
}
