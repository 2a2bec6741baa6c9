import type { Queryable } from "@lifecycle/db";
import {
  fitCountModel,
  judgeFit,
  validateHoldout,
  type CountModelFit,
  type CountModelKind,
  type BgNbdParams,
  type FitGuard,
  type HoldoutCustomer,
  type HoldoutValidation,
  type ParetoNbdParams,
} from "@lifecycle/domain";

type ParamsOf = { bgnbd: BgNbdParams; paretonbd: ParetoNbdParams };
/** A kind's calibration fit as stored: its parameters, flat, and the log-likelihood. */
type CalibrationFit<K extends CountModelKind> = ParamsOf[K] & { logLikelihood: number };

/** What the refit stores with its model: the validation and the calibration fit it scored, or why there is none. */
export type StoredValidation<K extends CountModelKind = "bgnbd"> =
  | ({ calibrationEnd: string; holdoutShare: number; calibrationFit: CalibrationFit<K> } & HoldoutValidation)
  | { skipped: string; holdoutShare: number };

/** One count model's holdout validation (skipped, with the guard's reason, when its calibration fit was rejected). */
export type KindValidation = { [K in CountModelKind]: { kind: K; validation: StoredValidation<K> } }[CountModelKind];

const MS_PER_DAY = 86_400_000;

/**
 * Holdout validation of each of `kinds` for one refit: the observed period runs from the first
 * purchase day to `now`'s UTC day; its last `holdoutShare` (rounded to whole days) is the holdout.
 * Each model is fitted on the purchases up to the calibration end (customers acquired by then,
 * same-day purchases merged, time in units of `daysPerUnit`) and scored on the holdout's distinct
 * purchase days; all on the same customers, so their errors compare. The applied model is still
 * the fit on everything: these only say how well such a fit predicts what came next. A
 * calibration fit the guard rejects is not scored.
 */
export async function validateCountModelsOnHoldout({ db, now, holdoutShare, daysPerUnit, guard, minCustomers, kinds }: {
  db: Queryable;
  now: Date;
  holdoutShare: number;
  daysPerUnit: number;
  guard: FitGuard;
  minCustomers: number;
  kinds: readonly CountModelKind[];
}): Promise<KindValidation[]> {
  // A reason to skip holds for every kind: none was fitted.
  const skipped = (why: string): KindValidation[] => kinds.map((kind) => ({ kind, validation: { skipped: why, holdoutShare } }));
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

  const repeatBuyers = customers.filter((c) => c.x > 0).length;
  const score = <K extends CountModelKind>(kind: K, params: ParamsOf[K], fit: CountModelFit): { kind: K; validation: StoredValidation<K> } => {
    const judgement = judgeFit({ params, logLikelihood: fit.logLikelihood, converged: fit.converged, repeatBuyers }, guard);
    if (!judgement.accepted) {
      return { kind, validation: { skipped: `calibration fit rejected: ${judgement.reason} (${judgement.detail})`, holdoutShare } };
    }
    const validation = validateHoldout({
      customers,
      holdoutLength: holdoutDays / daysPerUnit,
      // Any model plugs in here through its conditional expectation E[Y(t) | x, t_x, T].
      predict: (c, t) => fit.model.conditionalExpected(c, t),
      trackingStep: 7 / daysPerUnit,
    });
    return { kind, validation: { calibrationEnd: calibrationEnd.toISOString(), holdoutShare, calibrationFit: { ...params, logLikelihood: fit.logLikelihood }, ...validation } };
  };
  return kinds.map((kind): KindValidation => {
    const fit = fitCountModel({ kind, customers });
    const { spec } = fit.model;
    return spec.kind === "bgnbd" ? score("bgnbd", spec.params, fit) : score("paretonbd", spec.params, fit);
  });
}
