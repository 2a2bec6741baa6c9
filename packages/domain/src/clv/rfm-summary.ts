// The frequency / recency / age / monetary summary that BG/NBD and Gamma-Gamma take as input,
// built the way lifetimes' summary_data_from_transaction_data builds it (utils.py at 4f2833f), so
// that our fits on CDNOW reproduce the published parameters (notes/clv-models.md, pitfalls 1 and 2).

export type Purchase = { time: Date; amount: number };

/** One customer's summary, in the model's time unit. */
export type RfmSummary = {
  /** Repeat purchase days: distinct UTC purchase days − 1. */
  x: number;
  /** Time from the first purchase day to the last purchase day (0 when x = 0). */
  tx: number;
  /** Time from the first purchase day to the end day. */
  T: number;
  /** Mean of the repeat days' summed amounts, first day excluded; 0 when x = 0. */
  zbar: number;
};

export type RfmSummaryInput = {
  purchases: readonly Purchase[];
  /** Calibration end or observation time. Purchases on a later UTC day are ignored. */
  end: Date;
  /**
   * Days per model time unit. 7 gives weeks as days / 7, which is the unit of every published
   * CDNOW number (customer 1: T = 272 / 7 = 38.857).
   * @defaultValue 7
   */
  daysPerUnit?: number;
};

const MS_PER_DAY = 86_400_000;

/** UTC calendar day number: lifetimes floors timestamps to the day ('D') before grouping. */
export function utcDay(time: Date): number {
  const ms = time.getTime();
  if (Number.isNaN(ms)) throw new RangeError("utcDay: invalid Date");
  return Math.floor(ms / MS_PER_DAY);
}

/**
 * Summarise one customer's purchases up to `end`. Returns undefined when there is no purchase on
 * or before the end day: such a customer has not been acquired yet and the models do not apply.
 *
 * The end is compared by UTC day, like lifetimes (it floors both sides to the period), so T counts
 * whole days and a purchase later on the end day still belongs to the period.
 */
export function rfmSummary({ purchases, end, daysPerUnit = 7 }: RfmSummaryInput): RfmSummary | undefined {
  if (!(daysPerUnit > 0)) throw new RangeError(`rfmSummary: daysPerUnit must be positive, got ${daysPerUnit}`);
  const endDay = utcDay(end);
  // Same-day purchases merge into one transaction whose amount is their sum (lifetimes line 211).
  const amountByDay = new Map<number, number>();
  for (const { time, amount } of purchases) {
    const day = utcDay(time);
    if (day > endDay) continue;
    amountByDay.set(day, (amountByDay.get(day) ?? 0) + amount);
  }
  if (amountByDay.size === 0) return undefined;

  const days = [...amountByDay.keys()].sort((u, v) => u - v);
  const firstDay = days[0] ?? endDay;
  const lastDay = days[days.length - 1] ?? firstDay;
  const x = days.length - 1;
  let repeatSum = 0;
  for (const day of days.slice(1)) repeatSum += amountByDay.get(day) ?? 0;
  return {
    x,
    tx: (lastDay - firstDay) / daysPerUnit,
    T: (endDay - firstDay) / daysPerUnit,
    zbar: x === 0 ? 0 : repeatSum / x,
  };
}
