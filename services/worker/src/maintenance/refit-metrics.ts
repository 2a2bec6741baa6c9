import { Counter, type Registry } from "prom-client";

/**
 * The refit's metric: fits the guard rejected. Any increase means customers are still on an older
 * model (and will stay there until a refit is accepted): alert on it.
 */
export function createRefitMetrics(registry: Registry) {
  const fitsRejected = new Counter({
    name: "lifecycle_clv_fits_rejected_total",
    help: "CLV model fits rejected by the fit guard and not applied, by model and reason",
    labelNames: ["model", "reason"] as const,
    registers: [registry],
  });
  return { fitsRejected };
}
export type RefitMetrics = ReturnType<typeof createRefitMetrics>;
