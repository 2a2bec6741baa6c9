import { z } from "zod";
import type { RetentionSettings } from "./run-retention.js";

const days = (fallback: number) => z.coerce.number().int().min(1).default(fallback);

/**
 * The retention settings (README "Retention" says what shortening each one costs). Days and hours
 * are whole numbers; what keeps data longest is the default, not an unbounded table.
 */
export const retentionEnv = {
  /** Event payloads (the timeline, archives) by event time, dropped a whole month at a time. @defaultValue 400 */
  EVENT_PAYLOAD_RETENTION_DAYS: days(400),
  /** How long a re-sent event id is still recognised, by arrival: longer than Kafka keeps the input topics plus any replay. @defaultValue 90 */
  EVENT_DEDUPE_WINDOW_DAYS: days(90),
  /** Where a month of payloads is written (JSON lines, gzip) before it is dropped; unset: not archived. */
  EVENT_ARCHIVE_DIR: z.string().min(1).optional(),
  /** Published outbox rows, by publish time (follow-ups without an outcome stay until they expire). @defaultValue 24 */
  OUTBOX_RETENTION_HOURS: z.coerce.number().int().min(1).default(24),
  /** Job outcomes (the follow-ups tab, the holdout uplift), by when the job finished. @defaultValue 400 */
  JOB_OUTCOME_RETENTION_DAYS: days(400),
  /** How often retention runs (and the months ahead are partitioned). @defaultValue 86400000 (daily) */
  RETENTION_INTERVAL_MS: z.coerce.number().int().min(1_000).default(86_400_000),
};

type RetentionEnv = z.infer<z.ZodObject<typeof retentionEnv>>;

/** The settings when nothing is configured. */
export function defaultRetention(): RetentionSettings & { everyMs: number } {
  const env = z.object(retentionEnv).parse({});
  return { ...retentionSettings(env), everyMs: env.RETENTION_INTERVAL_MS };
}

export function retentionSettings(env: RetentionEnv): RetentionSettings {
  return {
    payloadDays: env.EVENT_PAYLOAD_RETENTION_DAYS,
    dedupeDays: env.EVENT_DEDUPE_WINDOW_DAYS,
    outboxHours: env.OUTBOX_RETENTION_HOURS,
    outcomeDays: env.JOB_OUTCOME_RETENTION_DAYS,
    ...(env.EVENT_ARCHIVE_DIR ? { archiveDir: env.EVENT_ARCHIVE_DIR } : {}),
  };
}
