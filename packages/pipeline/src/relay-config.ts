import { z } from "zod";
import { TOPICS } from "@lifecycle/events";

/**
 * The outbox relay's environment. Every process that writes outbox rows runs a relay (ingest for
 * the events' effects, the worker for the sweep's and the refit's), so publishing never depends on
 * another process being up.
 */
export const relayEnv = {
  /** Where stage changes are published (CONTRACT.md section 4). @defaultValue lifecycle-stage-changed */
  STAGE_CHANGED_TOPIC: z.string().min(1).default(TOPICS.stageChanged),
  /**
   * Follow-ups move from Postgres into BullMQ once due within this many milliseconds; later ones
   * wait in Postgres, so Redis holds near-due work only. @defaultValue 300000 (5 minutes)
   */
  FOLLOW_UP_HORIZON_MS: z.coerce.number().int().min(1_000).max(7 * 86_400_000).default(300_000),
};
