import type { LifecycleEvent } from "@lifecycle/events";
import { createIdentityRepo, createInboxRepo, createLifecycleStore, createOutboxRepo, sqlStateOf, withTransaction, type IdentityRepo, type InboxEvent, type InboxRepo, type LifecycleStore, type OutboxRepo, type Pool } from "@lifecycle/db";
import { EngineSettings } from "@lifecycle/domain";
import { createAnnualChurnCache, createClock, createLifecycleEngine, createModelCache, createModelsRepo, type Clock, type LifecycleEngine } from "@lifecycle/engine";
import { applyIdentityEvents, mergedMessage } from "./identity/apply-identities.js";
import { resolveSubjects } from "./identity/resolve-subjects.js";
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
  /** Aliases and merges: which customer an event's subject is (customer.identified, customer.merged). */
  identity: IdentityRepo;
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
  return { pool, inbox: createInboxRepo(pool), identity: createIdentityRepo(pool), store: createLifecycleStore(pool), outbox, engine: createLifecycleEngine({ outbox, clock, models, churn, settings }), rates };
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
 * One transaction per partition batch: (a) record each event id once, (b) apply the identity
 * events among the new ones (aliases, merges) and resolve every subject to its canonical customer,
 * (c) apply the new events to the customers' facts with set-based SQL and re-evaluate those
 * customers (stage, CLV, health), (d) write outbox rows for what must be published (stage changes,
 * merges, the follow-ups the events and the stage changes trigger).
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
    const outcome = await retryingRaces(() =>
      withTransaction(deps.pool, async (tx): Promise<ApplyOutcome> => {
        const fresh = await deps.inbox.insertNew(rows, tx);
        // An id repeated within the batch is recorded once: apply it once.
        const seen = new Set<string>();
        const freshEvents = accepted
          .map((a) => a.event)
          .filter((e) => fresh.has(e.id) && !seen.has(e.id) && seen.add(e.id));
        const merges = await applyIdentityEvents(tx, deps.identity, freshEvents);
        const events = await resolveSubjects(tx, deps.identity, freshEvents);
        const { touched } = await deps.store.applyNewEvents({ events, rates: deps.rates }, tx);
        // The records are locked now: a merge that committed since the subjects were resolved moved
        // one of them away. Start over, and the subjects resolve to where it went.
        if ((await deps.identity.resolve(touched, tx)).size > 0) throw new IdentityRace();
        const merged = merges.map((m) => mergedMessage(m, new Date()));
        const mergedOut = await deps.outbox.add(merged, tx);
        const customerIds = [...new Set([...touched, ...merges.map((m) => m.survivorId)])];
        const slots = accepted.map((a) => `${a.topic}:${a.partition}`);
        const { transitions, followUps } = await deps.engine.afterEvents(tx, { events, customerIds, slots, traceOf: trace.traceOf });
        return { applied: fresh.size, duplicates: accepted.length - fresh.size, outboxed: transitions + followUps + mergedOut, transitions };
      }),
    );
    trace.succeeded(outcome);
    return outcome;
  } catch (err) {
    trace.failed(err);
    throw err;
  }
}

/** A batch resolved a subject that a concurrent merge then moved: it is applied again. */
export class IdentityRace extends Error {
  constructor() {
    super("a customer this batch resolved was merged meanwhile");
  }
}

const RACE_RETRIES = 5;

/**
 * Runs `attempt` again at once when it lost a race it cannot lose twice in a row for long: a merge
 * moving a customer it resolved (IdentityRace), or a deadlock between a merge's record locks and a
 * batch's (40P01; Postgres rolled one back). Anything else, or a sixth loss, goes to the caller.
 */
async function retryingRaces<T>(attempt: () => Promise<T>): Promise<T> {
  for (let tries = 1; ; tries++) {
    try {
      return await attempt();
    } catch (err) {
      const race = err instanceof IdentityRace || sqlStateOf(err) === "40P01";
      if (!race || tries > RACE_RETRIES) throw err;
    }
  }
}
