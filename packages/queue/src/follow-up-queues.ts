import { Queue } from "bullmq";
import { FollowUpJob, JOB_CATALOG, followUpQueue, type ChannelName } from "@lifecycle/events";
import type { Redis } from "./redis.js";

export interface FollowUpToQueue {
  job: FollowUpJob;
  /** The job id (customer, playbook, trigger): adding it again is a no-op. */
  jobId: string;
  /** How long to wait before it may run. */
  delayMs: number;
}

/**
 * The follow-up queues, one per channel so each channel has its own rate limit and a slow
 * webhook does not hold up e-mail. Jobs are validated against the catalog's schema and get its
 * retry policy, so every producer enqueues them the same way.
 */
export function createFollowUpQueues({ connection, prefix }: { connection: Redis; prefix: string }) {
  const { attempts, backoff } = JOB_CATALOG["follow-up"];
  const queue = (channel: ChannelName) => {
    const q = new Queue(followUpQueue(channel), { connection, prefix });
    // Connection errors while Redis is away are retried by ioredis; a failed add rejects its caller.
    q.on("error", () => undefined);
    return q;
  };
  const queues: Record<ChannelName, Queue> = { log: queue("log"), webhook: queue("webhook"), email: queue("email") };
  const all = () => Object.values(queues);
  return {
    queues,
    async addBulk(items: readonly FollowUpToQueue[]): Promise<void> {
      const byChannel = new Map<ChannelName, FollowUpToQueue[]>();
      for (const item of items) {
        const list = byChannel.get(item.job.channel) ?? [];
        if (!byChannel.has(item.job.channel)) byChannel.set(item.job.channel, list);
        list.push(item);
      }
      for (const [channel, list] of byChannel) {
        await queues[channel].addBulk(
          list.map(({ job, jobId, delayMs }) => ({
            name: "follow-up",
            data: FollowUpJob.parse(job),
            opts: {
              jobId,
              delay: Math.max(0, Math.round(delayMs)),
              priority: job.priority,
              attempts,
              backoff,
              // Keep finished jobs for a while: a job id that still exists is what makes a replayed
              // trigger a no-op, and the outcome itself is stored durably in Postgres.
              removeOnComplete: { age: 7 * 24 * 3600 },
              removeOnFail: { age: 30 * 24 * 3600 },
            },
          })),
        );
      }
    },
    async obliterate(): Promise<void> {
      await Promise.all(all().map((q) => q.obliterate({ force: true })));
    },
    async close(): Promise<void> {
      await Promise.all(all().map((q) => q.close()));
    },
  };
}
export type FollowUpQueues = ReturnType<typeof createFollowUpQueues>;
