// The seed articles' back-of-envelope CLV formulas (CONTRACT.md section 3). Money is in integer
// cents in and out, so a price like $19.99 is exact and results round once, to whole cents.

/** Round to whole cents, half away from zero, after snapping float noise (4.4999999999 → 4.5). */
export function roundCents(cents: number): number {
  const snapped = Number(cents.toFixed(6));
  return Math.sign(snapped) * Math.round(Math.abs(snapped));
}

/**
 * Historical CLV = (Σ purchases − Σ refunds) × gross margin, in whole cents. The one definition:
 * the engine stores this value, the stage-changed event carries it and every reader (API,
 * measures, follow-ups) reads the stored column, so no two places can apply the margin apart.
 * Rounded once, here, so every two-decimal rendering of it agrees.
 */
export function historicalClvCents({ netRevenueCents, margin }: { netRevenueCents: number; margin: number }): number {
  return roundCents(netRevenueCents * margin);
}

/** Simple CLV = average order value × purchases per year × lifespan in years. */
export function simpleClvCents({
  averageOrderValueCents,
  purchasesPerYear,
  lifespanYears,
}: {
  averageOrderValueCents: number;
  purchasesPerYear: number;
  lifespanYears: number;
}): number {
  return roundCents(averageOrderValueCents * purchasesPerYear * lifespanYears);
}

/** Expected customer lifespan in years = 1 / annual churn rate (0.2 → 5 years). */
export function lifespanYearsFromChurn({ annualChurnRate }: { annualChurnRate: number }): number {
  if (!(annualChurnRate > 0 && annualChurnRate <= 1)) throw new RangeError(`annualChurnRate must be in (0, 1], got ${annualChurnRate}`);
  return 1 / annualChurnRate;
}

/** Revenue from a subscription: monthly price × months subscribed ($19.99 × 12 = $239.88). */
export function recurringRevenueCents({ monthlyPriceCents, months = 12 }: { monthlyPriceCents: number; months?: number }): number {
  return roundCents(monthlyPriceCents * months);
}

/** Profit CLV = annual profit contribution × years retained − acquisition cost. */
export function profitClvCents({
  annualProfitContributionCents,
  yearsRetained,
  acquisitionCostCents,
}: {
  annualProfitContributionCents: number;
  yearsRetained: number;
  acquisitionCostCents: number;
}): number {
  return roundCents(annualProfitContributionCents * yearsRetained - acquisitionCostCents);
}

export type ClvCacRatio = {
  /** CLV ÷ CAC; undefined when the acquisition cost is 0 (an organic customer has no ratio). */
  ratio: number | undefined;
  /** CLV ≥ healthyRatio × CAC, compared without dividing so 3:1 exactly counts as healthy. */
  meetsHealthyRatio: boolean;
};

/** The CLV:CAC ratio and whether it reaches the healthy line. */
export function clvCacRatio({
  clvCents,
  acquisitionCostCents,
  healthyRatio = 3,
}: {
  clvCents: number;
  acquisitionCostCents: number;
  /** @defaultValue 3 (the articles' 3:1 line) */
  healthyRatio?: number;
}): ClvCacRatio {
  if (acquisitionCostCents <= 0) return { ratio: undefined, meetsHealthyRatio: clvCents > 0 };
  return { ratio: clvCents / acquisitionCostCents, meetsHealthyRatio: clvCents >= healthyRatio * acquisitionCostCents };
}
