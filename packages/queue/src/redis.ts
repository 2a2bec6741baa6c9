import { readFileSync } from "node:fs";
import { Redis } from "ioredis";

export type { Redis };

/**
 * A Redis connection for BullMQ. Workers need `maxRetriesPerRequest: null` so that a Redis
 * outage blocks and reconnects instead of failing commands (BullMQ's documented requirement);
 * we use the same setting for queues so an enqueue waits out a short outage too.
 */
export function createRedisConnection(url: string, name = "customer-lifecycle", { tlsCaFile }: { tlsCaFile?: string | undefined } = {}): Redis {
  const redis = new Redis(url, { maxRetriesPerRequest: null, connectionName: name, enableReadyCheck: true, ...(tlsCaFile ? { tls: { ca: [readCaFile(url, tlsCaFile)] } } : {}) });
  // While Redis is away ioredis emits 'error' on every reconnect attempt; unheard, each one is
  // printed as an unhandled error. The failures that matter surface where commands wait (the
  // relay's and the workers' logs), and ioredis keeps reconnecting on its own.
  redis.on("error", () => undefined);
  return redis;
}

function readCaFile(url: string, path: string): string {
  if (!url.startsWith("rediss://")) throw new Error("REDIS_TLS_CA_FILE: set only with a rediss:// REDIS_URL (TLS)");
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    throw new Error(`REDIS_TLS_CA_FILE: cannot read ${path} (${err instanceof Error ? err.message : String(err)})`);
  }
}

/** A service's Redis connection as its environment configures it (URL, TLS root certificate). */
export function createRedisFromSettings(settings: { REDIS_URL: string; REDIS_TLS_CA_FILE?: string | undefined }, name: string): Redis {
  return createRedisConnection(settings.REDIS_URL, name, { tlsCaFile: settings.REDIS_TLS_CA_FILE });
}

/**
 * Start-up check: Redis answers, with the URL's credentials. A wrong password would otherwise
 * leave every command waiting (`maxRetriesPerRequest: null`) while ioredis reconnects forever;
 * here it is an error naming the setting. Fails after `timeoutMs` when nothing answers at all.
 */
export async function verifyRedis(redis: Redis, { setting = "REDIS_URL", timeoutMs = 15_000 }: { setting?: string; timeoutMs?: number } = {}): Promise<void> {
  const CREDENTIALS = /WRONGPASS|NOAUTH|NOPERM|invalid username-password/i;
  // An untrusted certificate: ioredis would reconnect (and fail the same way) forever.
  const TLS_TRUST = /self[- ]signed certificate|unable to verify|unable to get (local )?issuer|certificate has expired|altnames|Hostname\/IP does not match/i;
  const named = (err: Error) =>
    new Error(
      CREDENTIALS.test(err.message)
        ? `${setting}: Redis refused the credentials (${err.message})`
        : TLS_TRUST.test(err.message)
          ? `REDIS_TLS_CA_FILE: the Redis server's certificate is not trusted (${err.message})`
          : `${setting}: ${err.message}`,
    );
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
          if (lastError && (CREDENTIALS.test(lastError.message) || TLS_TRUST.test(lastError.message))) reject(named(lastError));
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

/** What Redis keeps across a restart, read at start-up; `warnings` are what an operator should fix. */
export interface RedisDurability {
  appendOnly: boolean;
  /** The RDB snapshot schedule (`save`); undefined where CONFIG is not allowed (managed Redis). */
  snapshots: string | undefined;
  evictionPolicy: string | undefined;
  warnings: string[];
}

const infoField = (info: string, field: string) => new RegExp(`^${field}:(.*)$`, "m").exec(info)?.[1]?.trim();

/**
 * Start-up check of Redis persistence. Without it a restart loses every queued follow-up until the
 * reconciliation re-adds them from Postgres (which it does; with persistence there is less to
 * redo); an eviction policy other than `noeviction` lets Redis drop queued jobs when full
 * (BullMQ's documented requirement).
 */
export async function checkRedisDurability(redis: Redis): Promise<RedisDurability> {
  const persistence = await redis.info("persistence");
  const memory = await redis.info("memory");
  const appendOnly = infoField(persistence, "aof_enabled") === "1";
  // CONFIG is often disabled on managed Redis; the snapshot schedule is then unknown.
  const snapshots = await redis
    .config("GET", "save")
    .then((r) => (Array.isArray(r) ? String(r[1] ?? "") : undefined))
    .catch(() => undefined);
  const evictionPolicy = infoField(memory, "maxmemory_policy");
  const warnings: string[] = [];
  if (!appendOnly && snapshots === "") {
    warnings.push("Redis runs without persistence (appendonly no, save \"\"): a restart loses queued follow-ups until the reconciliation re-adds them from Postgres; set appendonly yes");
  } else if (!appendOnly) {
    warnings.push("Redis has no append-only file (appendonly no): a restart loses the jobs queued since the last snapshot until the reconciliation re-adds them; appendonly yes is recommended");
  }
  if (evictionPolicy !== undefined && evictionPolicy !== "noeviction") {
    warnings.push(`Redis maxmemory-policy is ${evictionPolicy}: when full it may evict queued jobs; set noeviction`);
  }
  return { appendOnly, snapshots, evictionPolicy, warnings };
}
