import { Queue } from "bullmq";
import type { z } from "zod";
import { JOB_CATALOG, type JobName } from "@lifecycle/events";
import type { Redis } from "./redis.js";

type Payload<N extends JobName> = z.input<(typeof JOB_CATALOG)[N]["schema"]>;

/**
 * A typed producer for one catalog entry: validates the payload against the catalog's schema
 * and applies its retry policy, so every producer enqueues jobs the same way.
 */
export function createJobQueue<N extends JobName>({ name, connection, prefix }: { name: N; connection: Redis; prefix: string }) {
  const entry = JOB_CATALOG[name];
  const queue = new Queue(entry.queue, { connection, prefix });
  return {
    queue,
    async add(payload: Payload<N>, { jobId, delayMs = 0 }: { jobId: string; delayMs?: number }) {
      const data = entry.schema.parse(payload);
      return queue.add(name, data, {
        jobId,
        delay: delayMs,
        attempts: entry.attempts,
        backoff: entry.backoff,
        // Keep finished jobs for a while: a job id that still exists is what makes a replayed
        // trigger a no-op, and the outcome itself is stored durably in Postgres.
        removeOnComplete: { age: 7 * 24 * 3600 },
        removeOnFail: { age: 30 * 24 * 3600 },
      });
    },
    close: () => queue.close(),
  };
}

export type JobQueue<N extends JobName> = ReturnType<typeof createJobQueue<N>>;
