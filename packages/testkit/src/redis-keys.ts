import { Redis } from "ioredis";

/**
 * A test's Redis teardown: deletes every key under `prefix` (`<prefix>:*`, as BullMQ names a
 * queue's keys under its QUEUE_PREFIX), on its own connection. Call it after the processes and
 * queues that write there have stopped; it returns how many keys it removed.
 */
export async function removeRedisKeys(redisUrl: string, prefix: string): Promise<number> {
  const redis = new Redis(redisUrl, { connectionName: "test-cleanup" });
  // SCAN's MATCH is a glob: the prefix itself is matched literally.
  const pattern = `${prefix.replace(/[*?[\]\\]/g, "\\$&")}:*`;
  try {
    let removed = 0;
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 500);
      if (keys.length) removed += await redis.unlink(...keys);
      cursor = next;
    } while (cursor !== "0");
    return removed;
  } finally {
    redis.disconnect();
  }
}
