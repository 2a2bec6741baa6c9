import type { Pool } from "@lifecycle/db";
import type { EngineSettings } from "@lifecycle/domain";
import { createClock } from "@lifecycle/engine";
import type { LifecycleEvent } from "@lifecycle/events";
import type { Logger } from "@lifecycle/logging";
import { createFollowUpQueues, createRedisConnection } from "@lifecycle/queue";
import { applyEvents, createApplyDeps, createOutboxRelay } from "@lifecycle/pipeline";
import { createOutboxRepo } from "@lifecycle/db";
import type { Channel, Delivery } from "@lifecycle/worker/channels";
import { createWorkerService } from "@lifecycle/worker";

/**
 * The follow-up path in-process, every part real: events applied in a Postgres transaction, the
 * outbox relay adding jobs to BullMQ, the worker running them through a recording channel.
 * Stage changes are collected instead of produced (the Kafka side has its own tests).
 */
export function createFollowUpPipeline({ pool, redisUrl, prefix, settings, logger }: { pool: Pool; redisUrl: string; prefix: string; settings: EngineSettings; logger: Logger }) {
  const clock = createClock({ mode: "wall" });
  const relayRedis = createRedisConnection(redisUrl, "fu-relay");
  const workerRedis = createRedisConnection(redisUrl, "fu-worker");
  const followUps = createFollowUpQueues({ connection: relayRedis, prefix });
  const relay = createOutboxRelay({ pool, outbox: createOutboxRepo(pool), followUps, now: async () => new Date(), publishStageChanges: async () => undefined, logger, idleMs: 100 });
  const deliveries: Delivery[] = [];
  const recording: Channel = {
    name: "log",
    async send(d) {
      deliveries.push(d);
      return { detail: "recorded" };
    },
  };
  const worker = createWorkerService({ pool, connection: workerRedis, prefix, concurrency: 4, logger, clock, settings, channels: { log: recording } });
  const deps = createApplyDeps({ pool, rates: { USD: "1" }, clock, settings, modelCacheMs: 0 });
  let offset = 0;
  return {
    deliveries,
    followUps,
    metrics: worker.metrics,
    async start() {
      relay.start();
      await worker.start();
    },
    async apply(events: readonly LifecycleEvent[]) {
      const outcome = await applyEvents(deps, events.map((event) => ({ event, topic: "t", partition: 0, offset: offset++ })));
      relay.wake();
      return outcome;
    },
    async stop() {
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
