import type { LifecycleEvent } from "@lifecycle/events";
import { createInboxRepo, createLifecycleStore, createOutboxRepo, withTransaction, type InboxEvent, type InboxRepo, type LifecycleStore, type OutboxRepo, type Pool } from "@lifecycle/db";
import { EngineSettings } from "@lifecycle/domain";
import { createAnnualChurnCache, createClock, createLifecycleEngine, createModelCache, createModelsRepo, type Clock, type LifecycleEngine } from "@lifecycle/engine";
import { traceBatch } from "./trace-batch.js";

export interface AcceptedEvent {
  event: LifecycleEvent;
  topic: string;
  partition: number;
  offset: number;
  /** The Kafka message timestamp (ms; the producer's send time by default), for latency. */
  producedAt?: number;
}

export interface ApplyDeps {
  pool: Pool;
  inbox: InboxRepo;
  store: LifecycleStore;
  outbox: OutboxRepo;
  /** Re-derives stage, CLV and health for the touched customers, in the same transaction. */
  engine: LifecycleEngine;
  /** Rates to the base currency (the base itself at "1"). */
  rates: Readonly<Record<string, string>>;
}

/** The deps of `applyEvents` over one pool: the service and the tests build them here. */
export function createApplyDeps({
  pool,
  rates,
  clock = createClock({ mode: "wall" }),
  settings = EngineSettings.parse({}),
  modelCacheMs = 60_000,
}: {
  pool: Pool;
  rates: Readonly<Record<string, string>>;
  clock?: Clock;
  settings?: EngineSettings;
  /** How long the fitted models and the annual churn are cached (CLV_MODEL_CACHE_MS); 0: read per batch. */
  modelCacheMs?: number;
}): ApplyDeps {
  const outbox = createOutboxRepo(pool);
  const models = createModelCache({ repo: createModelsRepo(pool), ttlMs: modelCacheMs });
  // Stored by the worker's sweep at most daily: a batch needs no fresher reading than the models.
  const churn = createAnnualChurnCache({ ttlMs: modelCacheMs });
  return { pool, inbox: createInboxRepo(pool), store: createLifecycleStore(pool), outbox, engine: createLifecycleEngine({ outbox, clock, models, churn, settings }), rates };
}

export interface ApplyOutcome {
  /** Events recorded for the first time. */
  applied: number;
  /** Events already recorded earlier (re-sent or redelivered): they changed nothing. */
  duplicates: number;
  /** Outbox messages written (follow-ups and stage changes). */
  outboxed: number;
  /** Stage transitions recorded. */
  transitions: number;
}

/**
 * One transaction per partition batch: (a) record each event id once, (b) apply the new events
 * to the customers' facts with set-based SQL and re-evaluate those customers (stage, CLV,
 * health), (c) write outbox rows for what must be published (stage changes, the follow-ups the
 * events and the stage changes trigger).
 * The caller commits the Kafka offset only after this resolves; a redelivered batch then finds
 * every id recorded and changes nothing. Events that carry a `traceparent` continue their trace
 * here, and through the outbox rows they cause (see traceBatch).
 */
export async function applyEvents(deps: ApplyDeps, accepted: readonly AcceptedEvent[]): Promise<ApplyOutcome> {
  if (accepted.length === 0) return { applied: 0, duplicates: 0, outboxed: 0, transitions: 0 };
  const rows: InboxEvent[] = accepted.map(({ event, topic, partition, offset }) => ({
    eventId: event.id,
    type: event.type,
    source: event.source,
    subject: event.subject,
    eventTime: event.time,
    data: event.data,
    topic,
    partition,
    offset,
  }));

  const trace = traceBatch(accepted);
  try {
    const outcome = await withTransaction(deps.pool, async (tx): Promise<ApplyOutcome> => {
      const fresh = await deps.inbox.insertNew(rows, tx);
      // An id repeated within the batch is recorded once: apply it once.
      const seen = new Set<string>();
      const freshEvents = accepted
        .map((a) => a.event)
        .filter((e) => fresh.has(e.id) && !seen.has(e.id) && seen.add(e.id));
      const { touched } = await deps.store.applyNewEvents({ events: freshEvents, rates: deps.rates }, tx);
      const slots = accepted.map((a) => `${a.topic}:${a.partition}`);
      const { transitions, followUps } = await deps.engine.afterEvents(tx, { events: freshEvents, customerIds: touched, slots, traceOf: trace.traceOf });
      return { applied: fresh.size, duplicates: accepted.length - fresh.size, outboxed: transitions + followUps, transitions };
    });
    trace.succeeded(outcome);
    return outcome;
  } catch (err) {
    trace.failed(err);
    throw err;
  }
}
