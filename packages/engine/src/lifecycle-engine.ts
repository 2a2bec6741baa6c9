import type { OutboxRepo, Queryable } from "@lifecycle/db";
import type { EngineSettings } from "@lifecycle/domain";
import type { Clock } from "./clock.js";
import { evaluateCustomers, type EvaluateResult } from "./evaluate-customers.js";
import type { ModelCache } from "./models.repo.js";

/** What the ingest transaction calls after applying a batch's events to the facts. */
export function createLifecycleEngine({ outbox, clock, models, settings }: { outbox: OutboxRepo; clock: Clock; models: ModelCache; settings: EngineSettings }) {
  return {
    settings,
    /**
     * Re-evaluates the customers a batch touched, in the batch's transaction, so a stage change
     * and its outbox message commit with the events that caused it.
     */
    async evaluateTouched(tx: Queryable, customerIds: readonly string[], latestEventTime: Date): Promise<EvaluateResult> {
      if (customerIds.length === 0) return { evaluated: 0, transitions: 0 };
      const now = await clock.advance(tx, latestEventTime);
      return evaluateCustomers({ tx, outbox, customerIds, now, models: await models.get(), settings });
    },
  };
}
export type LifecycleEngine = ReturnType<typeof createLifecycleEngine>;
