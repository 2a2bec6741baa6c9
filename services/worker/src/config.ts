import { z } from "zod";
import { consentEnv, kafkaEnv, logEnv, pgEnv, probeEnv, redisEnv } from "@lifecycle/config";
import { engineEnv } from "@lifecycle/engine";
import { relayEnv } from "@lifecycle/pipeline";
import { tracingEnv } from "@lifecycle/telemetry";
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
  ...probeEnv(9465),
  ...tracingEnv,
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
  /** Jobs run at once per process. @defaultValue 5 */
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(100).default(5),
}));
export type WorkerConfig = z.infer<typeof WorkerConfig>;
