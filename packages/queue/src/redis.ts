import { Redis } from "ioredis";

export type { Redis };

/**
 * A Redis connection for BullMQ. Workers need `maxRetriesPerRequest: null` so that a Redis
 * outage blocks and reconnects instead of failing commands (BullMQ's documented requirement);
 * we use the same setting for queues so an enqueue waits out a short outage too.
 */
export function createRedisConnection(url: string, name = "customer-lifecycle"): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, connectionName: name, enableReadyCheck: true });
}
