import type { OutboxRepo, Queryable } from "@lifecycle/db";
import { triggersForEvents, type EngineSettings } from "@lifecycle/domain";
import type { LifecycleEvent } from "@lifecycle/events";
import type { AnnualChurnCache } from "./annual-churn.js";
import type { Clock } from "./clock.js";
import { evaluateCustomers, type EvaluateResult } from "./evaluate-customers.js";
import { writeFollowUps, type TraceOf } from "./follow-up-message.js";
import type { ModelCache } from "./models.repo.js";

export interface NewEvents {
  /** Events recorded for the first time in this transaction. */
  events: readonly LifecycleEvent[];
  /** Customers whose facts they changed. */
  customerIds: readonly string[];
  /** The input partitions they came from (`topic:partition`): each moves its own watermark. */
  slots?: readonly string[];
  /** The trace each outbox message continues, when some of the events carried one. */
  traceOf?: TraceOf | undefined;
}

/** What the ingest transaction calls after applying a batch's events to the facts. */
export function createLifecycleEngine({ outbox, clock, models, churn, settings }: { outbox: OutboxRepo; clock: Clock; models: ModelCache; churn: AnnualChurnCache; settings: EngineSettings }) {
  return {
    /**
     * In the batch's transaction: moves the clock, re-evaluates the touched customers (stage,
     * CLV, health; transitions and their follow-ups) and queues the follow-ups the events
     * themselves trigger, so every effect commits with the events that caused it.
     */
    async afterEvents(tx: Queryable, { events, customerIds, slots, traceOf }: NewEvents): Promise<Omit<EvaluateResult, "firstOrders">> {
      if (events.length === 0) return { evaluated: 0, transitions: 0, followUps: 0 };
      // Times carry offsets, so compare instants, not strings.
      const latest = new Date(events.reduce((max, e) => Math.max(max, Date.parse(e.time)), -Infinity));
      const now = await clock.advance(tx, latest, slots);
      const { firstOrders, ...evaluated } = await evaluateCustomers({ tx, outbox, customerIds, now, models: await models.get(tx), churn: (await churn.get(tx)) ?? null, settings, traceOf });
      // A customer's first purchase is among these events when its first order came from one.
      const fresh = new Set(events.map((e) => e.id));
      const firstPurchases = firstOrders.filter((f) => fresh.has(f.eventId));
      const intents = triggersForEvents({ events, firstPurchases, settings: settings.playbooks, rules: settings.rules, now });
      const queued = await writeFollowUps(tx, { outbox, intents, now, traceOf });
      return { ...evaluated, followUps: evaluated.followUps + queued };
    },
  };
}
export type LifecycleEngine = ReturnType<typeof createLifecycleEngine>;
