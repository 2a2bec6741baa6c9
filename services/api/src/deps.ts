import type { Queue } from "bullmq";
import type { Registry } from "prom-client";
import type { ApiKeyRepo, Pool } from "@lifecycle/db";
import type { EngineSettings } from "@lifecycle/domain";
import type { Clock } from "@lifecycle/engine";
import type { LifecycleEvent, StageChanged } from "@lifecycle/events";
import type { FollowUpTemplates } from "@lifecycle/templates";

/** A dependency /readyz checks. */
export interface ReadinessCheck {
  name: string;
  check: () => Promise<void>;
}

/** Stage changes as they reach `lifecycle-stage-changed`: the live alert stream listens here. */
export interface StageChangeFeed {
  subscribe(listener: (event: StageChanged) => void): () => void;
}

/** Everything the HTTP layer needs, built by main.ts (or a test) and passed to `buildApp`. */
export interface ApiDeps {
  pool: Pool;
  keys: ApiKeyRepo;
  settings: EngineSettings;
  /**
   * The engine's clock (LIFECYCLE_CLOCK), for reads that depend on "now" the way the engine sees
   * it, e.g. whether a holdout's purchase window has ended in a replay of history. @defaultValue wall time
   */
  clock?: Clock;
  /** Rates to the base currency (the base at "1"): POST /v1/events rejects other currencies, as the consumer does. */
  rates: Readonly<Record<string, string>>;
  /** How far past the clock an event time may be (POST /v1/events, as the consumer). @defaultValue 1 day */
  maxFutureSkewMs?: number;
  /** Produces validated events to their input topics (POST /v1/events). */
  publishEvents: (events: readonly LifecycleEvent[]) => Promise<void>;
  stageChanges: StageChangeFeed;
  /** The follow-up queues, for queue health on the dashboard. */
  queues: readonly Queue[];
  readiness: readonly ReadinessCheck[];
  registry: Registry;
  /** Requests per minute per API key, after authentication. */
  rateLimitPerMinute: number;
  /** Limits before authentication, per client address. @defaultValue DEFAULT_LIMITS */
  limits?: Partial<typeof DEFAULT_LIMITS>;
  /** Open alert streams (GET /v1/alerts/stream). @defaultValue DEFAULT_STREAM_LIMITS */
  streams?: Partial<typeof DEFAULT_STREAM_LIMITS>;
  /** The documentation UI at /docs: `key` (a read key, by HTTP Basic), `public`, or `off`. @defaultValue key */
  docs?: "off" | "key" | "public";
  /** Fastify's trustProxy: which proxies' X-Forwarded-For gives the client address. @defaultValue false (the socket's address) */
  trustProxy?: boolean | string[];
  bodyLimitBytes: number;
  /** Signs and checks one-click unsubscribe links (the worker signs them with the same secret); unset: /v1/unsubscribe answers 404. */
  unsubscribeSecret?: string | undefined;
  /** Follow-up templates for previews, as the worker renders them (TEMPLATES_DIR). @defaultValue the shipped defaults */
  templates?: FollowUpTemplates | undefined;
}

/** Limits before authentication (API_ADDRESS_RATE_LIMIT_PER_MINUTE, API_AUTH_FAILURES_PER_MINUTE, API_READYZ_PER_MINUTE). */
export const DEFAULT_LIMITS = {
  perAddressPerMinute: 1_200,
  authFailuresPerMinute: 20,
  readyzPerMinute: 60,
  /** The longest period /v1/metrics, the trends and the stage flows measure (API_MAX_PERIOD_DAYS). */
  maxPeriodDays: 731,
  /** Expensive reads at once, and how long one waits for a turn before a 503 (API_EXPENSIVE_READS_AT_ONCE, API_EXPENSIVE_READ_WAIT_MS). */
  expensiveReadsAtOnce: 2,
  expensiveReadWaitMs: 10_000,
};

/**
 * Open alert streams at most per API key and per process (API_SSE_STREAMS_PER_KEY,
 * API_SSE_STREAMS_TOTAL), and how often an open stream re-checks its key (API_SSE_KEY_RECHECK_MS):
 * a revoked key's streams end within that time.
 */
export const DEFAULT_STREAM_LIMITS = { perKey: 5, total: 200, keyRecheckMs: 30_000 };
