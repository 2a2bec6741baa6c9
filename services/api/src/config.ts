import { z } from "zod";
import { CommaList, consentEnv, currencyEnv, kafkaEnv, logEnv, pgEnv, redisEnv } from "@lifecycle/config";
import { engineEnv } from "@lifecycle/engine";
import { decodeEnv, INPUT_TOPICS, TOPICS } from "@lifecycle/events";
import { tracingEnv } from "@lifecycle/telemetry";
import { DEFAULT_LIMITS, DEFAULT_STREAM_LIMITS } from "./deps.js";
import { templatesEnv } from "@lifecycle/templates";

export const ApiConfig = z.object({
  ...pgEnv,
  ...kafkaEnv,
  ...redisEnv,
  ...logEnv,
  ...engineEnv,
  ...currencyEnv,
  ...decodeEnv,
  ...tracingEnv,
  ...templatesEnv,
  UNSUBSCRIBE_SECRET: consentEnv.UNSUBSCRIBE_SECRET,
  /** Shorter than the other services' 60 s: a request's query must not hold a pooled connection for long. @defaultValue 5000 */
  PG_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(5_000),
  /** The documentation UI (/docs, /docs/json): `key` (needs a read key; browsers ask for it as a password), `public`, or `off`. @defaultValue key */
  API_DOCS: z.enum(["off", "key", "public"]).default("key"),
  /** The longest period [from, to) /v1/metrics, the trends, the stage flows and the uplift measure. @defaultValue 731 (two years) */
  API_MAX_PERIOD_DAYS: z.coerce.number().int().min(1).max(10_000).default(DEFAULT_LIMITS.maxPeriodDays),
  /** Expensive reads (the same routes) at once per process; more wait their turn. @defaultValue 2 */
  API_EXPENSIVE_READS_AT_ONCE: z.coerce.number().int().min(1).max(100).default(DEFAULT_LIMITS.expensiveReadsAtOnce),
  /** How long an expensive read waits for its turn before a 503. @defaultValue 10000 */
  API_EXPENSIVE_READ_WAIT_MS: z.coerce.number().int().min(0).max(120_000).default(DEFAULT_LIMITS.expensiveReadWaitMs),
  /** Open alert streams per API key, and per process. @defaultValue 5, 200 */
  API_SSE_STREAMS_PER_KEY: z.coerce.number().int().min(1).default(DEFAULT_STREAM_LIMITS.perKey),
  API_SSE_STREAMS_TOTAL: z.coerce.number().int().min(1).default(DEFAULT_STREAM_LIMITS.total),
  /** How often an open alert stream re-checks its key (a revoked key's stream ends within this). @defaultValue 30000 */
  API_SSE_KEY_RECHECK_MS: z.coerce.number().int().min(100).max(60_000).default(DEFAULT_STREAM_LIMITS.keyRecheckMs),
  /** @defaultValue 127.0.0.1 */
  API_HOST: z.string().min(1).default("127.0.0.1"),
  /** @defaultValue 8080 */
  API_PORT: z.coerce.number().int().min(0).max(65_535).default(8080),
  /** Requests a minute per API key, after authentication. @defaultValue 600 */
  API_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(600),
  /** Requests a minute per client address, before authentication (every route but /healthz). @defaultValue 1200 */
  API_ADDRESS_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(DEFAULT_LIMITS.perAddressPerMinute),
  /** Failed authentications a minute per client address; past it, 429 without a key lookup. @defaultValue 20 */
  API_AUTH_FAILURES_PER_MINUTE: z.coerce.number().int().min(1).default(DEFAULT_LIMITS.authFailuresPerMinute),
  /** /readyz requests a minute per client address. @defaultValue 60 */
  API_READYZ_PER_MINUTE: z.coerce.number().int().min(1).default(DEFAULT_LIMITS.readyzPerMinute),
  /**
   * Which proxies in front of the API to believe about the client's address (X-Forwarded-For):
   * `false` (the socket's peer), `true` (any: only when every request comes through your proxy), or
   * the proxies' addresses/CIDRs separated by commas (e.g. `10.0.0.0/8`).
   * @defaultValue false
   */
  API_TRUST_PROXY: z
    .string()
    .trim()
    .default("false")
    .transform((v): boolean | string[] => (v === "false" ? false : v === "true" ? true : v.split(",").map((s) => s.trim()).filter(Boolean))),
  /** Largest request body. @defaultValue 1048576 (1 MiB) */
  API_BODY_LIMIT_BYTES: z.coerce.number().int().min(1_024).max(50 * 1_048_576).default(1_048_576),
  /** Where POST /v1/events produces, by event type. @defaultValue the four input topics */
  INPUT_TOPICS: CommaList.default([...INPUT_TOPICS]),
  STAGE_CHANGED_TOPIC: z.string().min(1).default(TOPICS.stageChanged),
});
export type ApiConfig = z.infer<typeof ApiConfig>;
