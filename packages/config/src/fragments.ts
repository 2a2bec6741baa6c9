import { z } from "zod";
import { BoolEnv, CommaList, JsonEnv } from "./env-helpers.js";

// Environment fragments. Each service composes the ones it needs into its own schema
// and calls loadConfig() once, in main.ts.

export const pgEnv = {
  /** Postgres connection string. @defaultValue the local server's `lifecycle` database */
  DATABASE_URL: z.url().default("postgres://postgres@127.0.0.1:5432/lifecycle").describe("Postgres connection string"),
  /** Pool size per process. @defaultValue 10 */
  PG_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),
  /** The server cancels a statement running longer (retried as a transient error). @defaultValue 60000 */
  PG_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(3_600_000).default(60_000),
  /** The server ends a session idle inside a transaction this long, releasing its locks. @defaultValue 60000 */
  PG_IDLE_IN_TRANSACTION_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(3_600_000).default(60_000),
};

export const kafkaEnv = {
  /** Comma-separated bootstrap brokers. @defaultValue 127.0.0.1:9092 */
  KAFKA_BROKERS: CommaList.default(["127.0.0.1:9092"]),
  /** Client id prefix reported to the broker. @defaultValue customer-lifecycle */
  KAFKA_CLIENT_ID: z.string().min(1).default("customer-lifecycle"),
  /** Connect with TLS (SSL or SASL_SSL listeners). @defaultValue false */
  KAFKA_SSL: BoolEnv.default(false),
  /** PEM file of the CA that signed the brokers' certificates; unset: the system's CAs. */
  KAFKA_SSL_CA_FILE: z.string().min(1).optional(),
  /** PEM files of a client certificate and its key, for brokers that require mutual TLS. */
  KAFKA_SSL_CERT_FILE: z.string().min(1).optional(),
  KAFKA_SSL_KEY_FILE: z.string().min(1).optional(),
  /** SASL mechanism; unset: no SASL. */
  KAFKA_SASL_MECHANISM: z.enum(["plain", "scram-sha-256", "scram-sha-512"]).optional(),
  KAFKA_SASL_USERNAME: z.string().min(1).optional(),
  /** The SASL password, or KAFKA_SASL_PASSWORD_FILE naming a file that holds it (a mounted secret). */
  KAFKA_SASL_PASSWORD: z.string().min(1).optional(),
  KAFKA_SASL_PASSWORD_FILE: z.string().min(1).optional(),
};

export const redisEnv = {
  /** Redis for BullMQ; `redis://:password@host:port`, or `rediss://` for TLS. @defaultValue redis://127.0.0.1:6379 */
  REDIS_URL: z.url().default("redis://127.0.0.1:6379"),
  /** PEM file of the CA that signed the Redis server's certificate (a `rediss://` URL); unset: the system's CAs. */
  REDIS_TLS_CA_FILE: z.string().min(1).optional(),
  /** Key prefix for every BullMQ queue, so several deployments can share one Redis. @defaultValue lifecycle */
  QUEUE_PREFIX: z.string().min(1).default("lifecycle"),
};

/** Consent for marketing follow-ups and one-click unsubscribe links (issue 11). */
export const consentEnv = {
  /** Signs one-click unsubscribe links (worker) and checks them (API): the same value in both, 32+ characters. */
  UNSUBSCRIBE_SECRET: z.string().min(32).optional(),
  /** The API's public base URL, e.g. https://lifecycle.example.com: unsubscribe links point there. */
  PUBLIC_API_URL: z.url().optional(),
  /** How long an unsubscribe link works. @defaultValue 90 */
  UNSUBSCRIBE_LINK_DAYS: z.coerce.number().int().min(1).max(3_650).default(90),
};

export const logEnv = {
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
};

/** The background services' probe endpoint (/metrics, /healthz, /readyz); -1 turns it off. */
export const probeEnv = (defaultPort: number) => ({
  PROBE_HOST: z.string().min(1).default("127.0.0.1"),
  PROBE_PORT: z.coerce.number().int().min(-1).max(65535).default(defaultPort),
});

export const httpEnv = {
  HOST: z.string().default("127.0.0.1"),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
};

/**
 * Variables whose values must never reach a log line. The logger redacts them wherever
 * they appear as keys, and connection strings are logged without their passwords.
 */
export const secretKeys = ["DATABASE_URL", "REDIS_URL", "API_KEY_PEPPER", "WEBHOOK_SECRET", "SMTP_PASSWORD", "UNSUBSCRIBE_SECRET"] as const;

/** Money: the base currency every amount is summed in, and rates to it from other currencies. */
/** The largest rate to the base currency accepted (1 unit = this many base units). */
export const FX_RATE_MAX = 1_000_000;

export const currencyEnv = {
  /** The currency every amount is summed in. @defaultValue USD */
  BASE_CURRENCY: z.string().regex(/^[A-Z]{3}$/).default("USD"),
  /**
   * Rates to the base currency as JSON, e.g. `{"EUR":"1.08","GBP":"1.27"}` (1 EUR = 1.08 base).
   * Amounts in other currencies are rejected (dead-lettered). @defaultValue {} (base currency only)
   */
  FX_RATES: JsonEnv.pipe(
    z.record(
      z.string().regex(/^[A-Z]{3}$/),
      z
        .union([z.string().regex(/^\d{1,7}(\.\d{1,12})?$/), z.number().positive()])
        .transform(String)
        // Bounded so that an amount in the base currency cannot grow past what was checked for.
        .refine((r) => Number(r) > 0 && Number(r) <= FX_RATE_MAX, `must be above 0 and at most ${FX_RATE_MAX}`),
    ),
  ),
};

/** Rates to the base currency, the base itself at "1". */
export const ratesOf = (c: { BASE_CURRENCY: string; FX_RATES: Record<string, string> }): Record<string, string> => ({ ...c.FX_RATES, [c.BASE_CURRENCY]: "1" });
