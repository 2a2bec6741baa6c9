// Once a second, throughout the run: Redis's `used_memory` (the whole server, so colleagues' work
// on a shared Redis counts too; the baseline before the bench is reported beside it) and the
// follow-up jobs pending in the current phase's queues (waiting, prioritized, delayed, active).
import { createFollowUpQueues, createRedisConnection, type FollowUpQueues } from "@lifecycle/queue";

export interface PhaseSample {
  peakRedisBytes: number;
  peakPending: number;
  finalPending: number;
  samples: number;
}

const PENDING_STATES = ["waiting", "prioritized", "delayed", "active", "waiting-children"] as const;

/** `used_memory` from `INFO memory`. */
export function usedMemory(info: string): number {
  const m = /^used_memory:(\d+)/m.exec(info);
  return m?.[1] === undefined ? Number.NaN : Number(m[1]);
}

export function createRedisSampler(redisUrl: string) {
  const redis = createRedisConnection(redisUrl, "bench-sampler");
  const phases = new Map<string, PhaseSample>();
  let current: { name: string; queues: FollowUpQueues | undefined } | undefined;
  let latest = { redisBytes: Number.NaN, pending: Number.NaN };
  let peakRedisBytes = 0;
  let busy = false;

  const pendingIn = async (queues: FollowUpQueues | undefined): Promise<number> => {
    if (!queues) return Number.NaN;
    const counts = await Promise.all(Object.values(queues.queues).map((q) => q.getJobCounts(...PENDING_STATES)));
    return counts.reduce((sum, c) => sum + Object.values(c).reduce((a, b) => a + b, 0), 0);
  };

  const sample = async () => {
    if (busy || !current) return;
    busy = true;
    try {
      const phase = current;
      const redisBytes = usedMemory(await redis.info("memory"));
      const pending = await pendingIn(phase.queues);
      latest = { redisBytes, pending };
      peakRedisBytes = Math.max(peakRedisBytes, redisBytes);
      const s = phases.get(phase.name) ?? { peakRedisBytes: 0, peakPending: 0, finalPending: 0, samples: 0 };
      phases.set(phase.name, {
        peakRedisBytes: Math.max(s.peakRedisBytes, redisBytes),
        peakPending: Number.isNaN(pending) ? s.peakPending : Math.max(s.peakPending, pending),
        finalPending: Number.isNaN(pending) ? s.finalPending : pending,
        samples: s.samples + 1,
      });
    } catch {
      // A sample lost to a busy Redis is skipped; the next one comes a second later.
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void sample(), 1_000);

  return {
    /** Redis's used_memory before anything of the bench ran. */
    baseline: async () => usedMemory(await redis.info("memory")),
    /** Samples belong to `name` from now on; `prefix` names its BullMQ queues (none: no queues). */
    async setPhase(name: string, prefix?: string): Promise<void> {
      const previous = current?.queues;
      current = { name, queues: prefix ? createFollowUpQueues({ connection: redis, prefix }) : undefined };
      await previous?.close();
      await sample();
    },
    /** One more sample now (the end of a phase), so the final count is exact. */
    async sampleNow(): Promise<void> {
      while (busy) await new Promise((r) => setTimeout(r, 50));
      await sample();
    },
    latest: () => latest,
    phase: (name: string) => phases.get(name),
    peakRedisBytes: () => peakRedisBytes,
    async stop(): Promise<void> {
      clearInterval(timer);
      await current?.queues?.close();
      current = undefined;
      redis.disconnect();
    },
  };
}
export type RedisSampler = ReturnType<typeof createRedisSampler>;
