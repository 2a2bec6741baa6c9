// One interface over the two purchase-count models, so that the refit, the holdout validation and
// the per-customer evaluation can use whichever the evidence chose (choose-model.ts) without a
// branch per model at every call. The model functions stay where they are; this only adapts them.

import {
  ageAtPAliveThreshold,
  conditionalExpectedTransactions,
  expectedTransactions,
  expectedTransactionsIfAlive,
  fitBgNbd,
  pAlive,
  type BgNbdParams,
} from "./bgnbd.js";
import type { CountCustomer } from "./customer-rows.js";
import {
  fitParetoNbd,
  paretoNbdAgeAtPAliveThreshold,
  paretoNbdConditionalExpectedTransactions,
  paretoNbdExpectedTransactions,
  paretoNbdExpectedTransactionsIfAlive,
  paretoNbdPAlive,
  type ParetoNbdParams,
} from "./pareto-nbd.js";

export type CountModelKind = "bgnbd" | "paretonbd";
export const COUNT_MODEL_KINDS: readonly CountModelKind[] = ["bgnbd", "paretonbd"];

/** A model and its parameters: what is stored, and all that is needed to rebuild the model. */
export type CountModelSpec = { kind: "bgnbd"; params: BgNbdParams } | { kind: "paretonbd"; params: ParetoNbdParams };

/** A customer's calibration summary in the model's time unit. */
export type CountSummary = { x: number; tx: number; T: number };

/** The per-customer and population predictions the engine needs from a purchase-count model. */
export interface CountModel {
  readonly spec: CountModelSpec;
  /** P(alive | x, t_x, T). */
  pAlive(summary: CountSummary): number;
  /** E[X(t)]: repeat purchases in (0, t] for a newly acquired customer. */
  expected(t: number): number;
  /** E[Y(t) | x, t_x, T]: purchases in the next t. */
  conditionalExpected(summary: CountSummary, t: number): number;
  /** E[Y(t) | x, t_x, T, alive]; times pAlive it is conditionalExpected (predictive CLV discounts it per month). */
  expectedIfAlive(summary: CountSummary, t: number): number;
  /**
   * The age T at which P(alive) falls to `threshold` with no further purchase. Undefined when it
   * never does: BG/NBD with x = 0 (P(alive) is 1). Pareto/NBD is defined for every x.
   */
  ageAtPAliveThreshold(summary: Omit<CountSummary, "T">, threshold: number): number | undefined;
}

/** A fitted count model with what the guard and the model history need. */
export type CountModelFit = {
  model: CountModel;
  /** Sample log-likelihood (the sum). Comparable between models only on the same customers. */
  logLikelihood: number;
  iterations: number;
  converged: boolean;
  sampleSize: number;
};

/** The model for stored or fitted parameters. */
export function countModel(spec: CountModelSpec): CountModel {
  switch (spec.kind) {
    case "bgnbd":
      return bgNbdModel(spec);
    case "paretonbd":
      return paretoNbdModel(spec);
    default: {
      const unknown: never = spec;
      throw new RangeError(`unknown count model ${JSON.stringify(unknown)}`);
    }
  }
}

function bgNbdModel(spec: { kind: "bgnbd"; params: BgNbdParams }): CountModel {
  const { params } = spec;
  return {
    spec,
    pAlive: (summary) => pAlive({ params, ...summary }),
    expected: (t) => expectedTransactions({ params, t }),
    conditionalExpected: (summary, t) => conditionalExpectedTransactions({ params, ...summary, t }),
    expectedIfAlive: (summary, t) => expectedTransactionsIfAlive({ params, ...summary, t }),
    ageAtPAliveThreshold: ({ x, tx }, threshold) => ageAtPAliveThreshold({ params, x, tx, threshold }),
  };
}

function paretoNbdModel(spec: { kind: "paretonbd"; params: ParetoNbdParams }): CountModel {
  const { params } = spec;
  return {
    spec,
    pAlive: (summary) => paretoNbdPAlive({ params, ...summary }),
    expected: (t) => paretoNbdExpectedTransactions({ params, t }),
    conditionalExpected: (summary, t) => paretoNbdConditionalExpectedTransactions({ params, ...summary, t }),
    expectedIfAlive: (summary, t) => paretoNbdExpectedTransactionsIfAlive({ params, ...summary, t }),
    ageAtPAliveThreshold: ({ x, tx }, threshold) => paretoNbdAgeAtPAliveThreshold({ params, x, tx, threshold }),
  };
}

/** Fit `kind` by maximum likelihood on `customers` (each fit's own defaults: start, restarts, bounds). */
export function fitCountModel({ kind, customers }: { kind: CountModelKind; customers: readonly CountCustomer[] }): CountModelFit {
  if (kind === "bgnbd") {
    const { r, alpha, a, b, ...fit } = fitBgNbd({ customers });
    return { ...fit, model: countModel({ kind, params: { r, alpha, a, b } }) };
  }
  const { r, alpha, s, beta, ...fit } = fitParetoNbd({ customers });
  return { ...fit, model: countModel({ kind, params: { r, alpha, s, beta } }) };
}
