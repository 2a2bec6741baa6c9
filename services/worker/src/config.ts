import { z } from "zod";
import { CommaList, consentEnv, kafkaEnv, logEnv, pgEnv, probeEnv, redisEnv } from "@lifecycle/config";
import { retentionEnv } from "@lifecycle/db";
import { INPUT_TOPICS } from "@lifecycle/events";
import { engineEnv } from "@lifecycle/engine";
import { relayEnv } from "@lifecycle/pipeline";
import { tracingEnv } from "@lifecycle/telemetry";
import { templatesEnv } from "@lifecycle/templates";
import { channelsEnv, withChannelsCheck } from "./channels/channels-config.js";

export const WorkerConfig = withChannelsCheck(z.object({
  ...pgEnv,
  ...redisEnv,
  ...kafkaEnv,
  ...relayEnv,
  ...logEnv,
  ...engineEnv,
  ...channelsEnv,
  ...consentEnv,
  ...templatesEnv,
  ...probeEnv(9465),
  ...tracingEnv,
  ...retentionEnv,
  /** The input topics (as the ingest reads them): retention keeps event ids at least as long as they keep events. @defaultValue the four topics of CONTRACT.md section 1 */
  INPUT_TOPICS: CommaList.default([...INPUT_TOPICS]),
  /** Follow-ups per second per channel (each channel has its own queue and limiter). */
  RATE_LIMIT_LOG_PER_SECOND: z.coerce.number().int().min(1).default(1_000),
  RATE_LIMIT_WEBHOOK_PER_SECOND: z.coerce.number().int().min(1).default(50),
  RATE_LIMIT_EMAIL_PER_SECOND: z.coerce.number().int().min(1).default(10),
  /** How often the stage sweep looks for customers whose windows have run out. @defaultValue 60000 */
  SWEEP_INTERVAL_MS: z.coerce.number().int().min(1_000).default(60_000),
  /**
   * How often BG/NBD and Gamma-Gamma are refitted. As low as a second for tests and demos on a
   * few customers; on a real base a refit takes minutes. @defaultValue 86400000 (daily)
   */
  REFIT_INTERVAL_MS: z.coerce.number().int().min(1_000).default(86_400_000),
  /** First retry of a failed delivery; each further one waits twice as long. @defaultValue 10000 */
  FOLLOW_UP_RETRY_BASE_MS: z.coerce.number().int().min(100).default(10_000),
  /** Longest wait between two attempts (20 attempts in all: about 11.4 hours with the defaults). @defaultValue 3600000 */
  FOLLOW_UP_RETRY_MAX_MS: z.coerce.number().int().min(100).default(3_600_000),
  /** Transient delivery failures in a row that open a channel's circuit (its jobs then wait, uncharged). @defaultValue 5 */
  CIRCUIT_FAILURE_THRESHOLD: z.coerce.number().int().min(1).default(5),
  /** First pause of an open circuit before one delivery probes the channel; doubles per failed probe. @defaultValue 10000 */
  CIRCUIT_OPEN_MS: z.coerce.number().int().min(100).default(10_000),
  /** Longest pause of an open circuit. @defaultValue 300000 */
  CIRCUIT_OPEN_MAX_MS: z.coerce.number().int().min(100).default(300_000),
  /**
   * How often the worker checks that Redis still holds the follow-up queues (and re-adds them from
   * the outbox if not), and records the outcome of final failures that have none. @defaultValue 15000
   */
  RECONCILE_CHECK_MS: z.coerce.number().int().min(100).default(15_000),
  /** Jobs run at once per process. @defaultValue 5 */
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(100).default(5),
}));
export type WorkerConfig = z.infer<typeof WorkerConfig>;
