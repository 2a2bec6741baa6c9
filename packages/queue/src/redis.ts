import { Redis } from "ioredis";

export type { Redis };

/**
 * A Redis connection for BullMQ. Workers need `maxRetriesPerRequest: null` so that a Redis
 * outage blocks and reconnects instead of failing commands (BullMQ's documented requirement);
 * we use the same setting for queues so an enqueue waits out a short outage too.
 */
export function createRedisConnection(url: string, name = "customer-lifecycle"): Redis {
  const redis = new Redis(url, { maxRetriesPerRequest: null, connectionName: name, enableReadyCheck: true });
  // While Redis is away ioredis emits 'error' on every reconnect attempt; unheard, each one is
  // printed as an unhandled error. The failures that matter surface where commands wait (the
  // relay's and the workers' logs), and ioredis keeps reconnecting on its own.
  redis.on("error", () => undefined);
  return redis;
}
