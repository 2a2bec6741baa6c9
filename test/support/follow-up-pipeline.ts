import type { Pool } from "@lifecycle/db";
import type { EngineSettings } from "@lifecycle/domain";
import { createClock } from "@lifecycle/engine";
import type { LifecycleEvent, StageTopicEvent } from "@lifecycle/events";
import type { Logger } from "@lifecycle/logging";
import { createFollowUpQueues, createRedisConnection } from "@lifecycle/queue";
import { applyEvents, createApplyDeps, createFollowUpReconciler, createOutboxRelay } from "@lifecycle/pipeline";
import { createOutboxRepo } from "@lifecycle/db";
import type { Channel, Delivery } from "@lifecycle/worker/channels";
import { createWorkerService, type WorkerServiceDeps } from "@lifecycle/worker";

/**
 * The follow-up path in-process, every part real: events applied in a Postgres transaction, the
 * outbox relay adding jobs to BullMQ, the worker running them through a recording channel.
 * Stage changes and erasures are collected instead of produced (the Kafka side has its own tests).
 */
export interface FollowUpPipelineOptions {
  pool: Pool;
  redisUrl: string;
  prefix: string;
  settings: EngineSettings;
  logger: Logger;
  /** Channels instead of the recording one (which then serves nothing). */
  channels?: WorkerServiceDeps["channels"];
  retry?: WorkerServiceDeps["retry"];
  circuit?: WorkerServiceDeps["circuit"];
  /** How far ahead the relay moves follow-ups into BullMQ. @defaultValue the relay's (5 minutes) */
  relayHorizonMs?: number;
  /** Runs the worker's Redis-loss reconciliation too, checking this often. */
  reconcile?: { everyMs: number; settleMs: number };
}

export function createFollowUpPipeline({ pool, redisUrl, prefix, settings, logger, channels, retry, circuit, relayHorizonMs, reconcile }: FollowUpPipelineOptions) {
  const clock = createClock({ mode: "wall" });
  const relayRedis = createRedisConnection(redisUrl, "fu-relay");
  const workerRedis = createRedisConnection(redisUrl, "fu-worker");
  const followUps = createFollowUpQueues({ connection: relayRedis, prefix });
  const outbox = createOutboxRepo(pool);
  const published: StageTopicEvent[] = [];
  const relay = createOutboxRelay({ pool, outbox, followUps, now: async () => new Date(), publishStageChanges: async (events) => void published.push(...events), logger, idleMs: 100, ...(relayHorizonMs === undefined ? {} : { horizonMs: relayHorizonMs }) });
  const deliveries: Delivery[] = [];
  const recording: Channel = {
    name: "log",
    async send(d) {
      deliveries.push(d);
      return { detail: "recorded" };
    },
  };
  const worker = createWorkerService({ pool, connection: workerRedis, prefix, concurrency: 4, logger, clock, settings, channels: channels ?? { log: recording }, ...(retry ? { retry } : {}), ...(circuit ? { circuit } : {}) });
  const reconciler = reconcile
    ? createFollowUpReconciler({ pool, outbox, connection: relayRedis, prefix, now: async () => new Date(), logger, registry: worker.metrics.registry, onRequeued: () => relay.wake(), ...reconcile })
    : undefined;
  const deps = createApplyDeps({ pool, rates: { USD: "1" }, clock, settings, modelCacheMs: 0 });
  let offset = 0;
  return {
    deliveries,
    /** What the relay published to `lifecycle-stage-changed`, in order. */
    published,
    followUps,
    metrics: worker.metrics,
    async start() {
      relay.start();
      await worker.start();
      reconciler?.start();
    },
    async apply(events: readonly LifecycleEvent[]) {
      const outcome = await applyEvents(deps, events.map((event) => ({ event, topic: "t", partition: 0, offset: offset++ })));
      relay.wake();
      return outcome;
    },
    async stop() {
      await reconciler?.stop();
      await relay.stop();
      await worker.stop();
      await followUps.obliterate().catch(() => undefined);
      await followUps.close();
      relayRedis.disconnect();
      workerRedis.disconnect();
    },
  };
}
export type FollowUpPipeline = ReturnType<typeof createFollowUpPipeline>;
