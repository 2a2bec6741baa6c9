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

/**
 * Start-up check: Redis answers, with the URL's credentials. A wrong password would otherwise
 * leave every command waiting (`maxRetriesPerRequest: null`) while ioredis reconnects forever;
 * here it is an error naming the setting. Fails after `timeoutMs` when nothing answers at all.
 */
export async function verifyRedis(redis: Redis, { setting = "REDIS_URL", timeoutMs = 15_000 }: { setting?: string; timeoutMs?: number } = {}): Promise<void> {
  const CREDENTIALS = /WRONGPASS|NOAUTH|NOPERM|invalid username-password/i;
  const named = (err: Error) => new Error(CREDENTIALS.test(err.message) ? `${setting}: Redis refused the credentials (${err.message})` : `${setting}: ${err.message}`);
  let lastError: Error | undefined;
  const onError = (err: Error) => {
    lastError = err;
  };
  redis.on("error", onError);
  let timer: NodeJS.Timeout | undefined;
  let poll: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      redis.ping().catch((err: unknown) => {
        throw named(err instanceof Error ? err : new Error(String(err)));
      }),
      new Promise<never>((_, reject) => {
        const check = () => {
          if (lastError && CREDENTIALS.test(lastError.message)) reject(named(lastError));
        };
        poll = setInterval(check, 100);
        timer = setTimeout(() => {
          reject(new Error(`${setting}: Redis did not answer within ${timeoutMs} ms${lastError ? ` (${lastError.message})` : ""}`));
        }, timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    clearInterval(poll);
    redis.off("error", onError);
  }
}
