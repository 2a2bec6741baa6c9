// Calibration summaries grouped for the count models' likelihoods. BG/NBD and Pareto/NBD both take
// (x, t_x, T) per customer and both have a Γ(r + x) term shared by every customer with the same x,
// so one grouping serves both: the Γ terms once per distinct x, the rest once per distinct row.

/** A customer's calibration summary (see rfmSummary). `weight` counts identical customers. */
export type CountCustomer = { x: number; tx: number; T: number; weight?: number };

/** Customers grouped by identical (x, t_x, T); `xs[xIndex]` is a row's x and `xWeights` sums them per x. */
export type CustomerRows = {
  xs: number[];
  xWeights: number[];
  rows: { xIndex: number; tx: number; T: number; weight: number }[];
  sampleSize: number;
};

/** Validate and group `customers`; `model` names the caller in the error for an invalid row. */
export function groupCustomers(customers: readonly CountCustomer[], model: string): CustomerRows {
  const xIndexOf = new Map<number, number>();
  const rowIndexOf = new Map<string, number>();
  const grouped: CustomerRows = { xs: [], xWeights: [], rows: [], sampleSize: 0 };
  for (const { x, tx, T, weight = 1 } of customers) {
    if (!(Number.isInteger(x) && x >= 0 && tx >= 0 && T >= tx && Number.isFinite(T) && weight > 0)) {
      throw new RangeError(`${model}: invalid customer x=${x} tx=${tx} T=${T} weight=${weight}`);
    }
    let xIndex = xIndexOf.get(x);
    if (xIndex === undefined) {
      xIndex = grouped.xs.push(x) - 1;
      grouped.xWeights.push(0);
      xIndexOf.set(x, xIndex);
    }
    grouped.xWeights[xIndex] = (grouped.xWeights[xIndex] ?? 0) + weight;
    // t_x plays no part in either likelihood when x = 0 (it is 0 by definition); normalising it merges more rows.
    const rowTx = x === 0 ? 0 : tx;
    const key = `${x}:${rowTx}:${T}`;
    const rowIndex = rowIndexOf.get(key);
    const row = rowIndex === undefined ? undefined : grouped.rows[rowIndex];
    if (row) row.weight += weight;
    else rowIndexOf.set(key, grouped.rows.push({ xIndex, tx: rowTx, T, weight }) - 1);
    grouped.sampleSize += weight;
  }
  return grouped;
}

/**
 * Starting rate scale for a fit, so that the time unit does not matter: ΣT / Σx, the scale at which
 * a gamma(1, scale) purchase rate has the observed mean repeat rate. 1 when there are no repeats.
 */
export function rateScaleStart(data: CustomerRows): number {
  let sumX = 0;
  let sumT = 0;
  for (const row of data.rows) {
    sumX += row.weight * (data.xs[row.xIndex] ?? 0);
    sumT += row.weight * row.T;
  }
  return sumX > 0 && sumT > 0 ? sumT / sumX : 1;
}

/** A zero horizon has no purchases (exactly 0, where the formulas give −0); a negative one is a bug. */
export function nonNegativeHorizon(t: number, model: string): number {
  if (t === 0) return 0;
  throw new RangeError(`${model}: the horizon t must be >= 0, got ${t}`);
}
