import pg from "pg";

export type Pool = pg.Pool;
/** Anything that can run a query: the pool, or a client holding a transaction. */
export type Queryable = Pick<pg.Pool, "query"> | pg.PoolClient;

// Postgres `bigint` (int8) arrives as a string by default. Our bigints are counters and Kafka
// offsets well inside 2^53, so parse them as numbers once, here, rather than at every call site.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));
// `numeric` stays a string: money is summed in SQL and must not pass through floats.

export interface CreatePoolOptions {
  connectionString: string;
  max?: number;
  applicationName?: string;
  /** The server cancels a statement running longer (SQLSTATE 57014, retried). @defaultValue 60000 */
  statementTimeoutMs?: number;
  /** The server ends a session idle inside a transaction this long (a hung client's locks). @defaultValue 60000 */
  idleInTransactionTimeoutMs?: number;
}

/**
 * A pool whose connections cannot hang for good: statements and idle transactions are bounded
 * by the server, and TCP keepalive notices a peer that vanished without closing (a dead NAT
 * entry, a failed-over host) instead of waiting on the socket forever.
 */
export function createPool({ connectionString, max = 10, applicationName = "customer-lifecycle", statementTimeoutMs = 60_000, idleInTransactionTimeoutMs = 60_000 }: CreatePoolOptions): Pool {
  const pool = new pg.Pool({
    connectionString,
    max,
    application_name: applicationName,
    connectionTimeoutMillis: 10_000,
    statement_timeout: statementTimeoutMs,
    idle_in_transaction_session_timeout: idleInTransactionTimeoutMs,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    // No JIT: the ingest batch's statements are estimated expensive (a thousand customers, their
    // rows joined laterally) yet run in milliseconds, and compiling them cost ~30 ms each time.
    options: "-c jit=off",
  });
  // An idle client losing its connection (a Postgres restart) emits 'error' on the pool;
  // without a listener that would crash the process. The next query gets a fresh client.
  pool.on("error", () => undefined);
  return pool;
}

/** The pool settings of a service's environment (the config package's `pgEnv`). */
export interface PgSettings {
  DATABASE_URL: string;
  PG_POOL_MAX: number;
  PG_STATEMENT_TIMEOUT_MS: number;
  PG_IDLE_IN_TRANSACTION_TIMEOUT_MS: number;
}

/** A service's pool, as its environment configures it. */
export function createPoolFromSettings(settings: PgSettings, applicationName: string): Pool {
  return createPool({
    connectionString: settings.DATABASE_URL,
    max: settings.PG_POOL_MAX,
    applicationName,
    statementTimeoutMs: settings.PG_STATEMENT_TIMEOUT_MS,
    idleInTransactionTimeoutMs: settings.PG_IDLE_IN_TRANSACTION_TIMEOUT_MS,
  });
}
