import { z } from "zod";

/** BullMQ queue names (the configured prefix is applied by the queue package). */
export const QUEUES = {
  followUps: "follow-ups",
  /** The engine's scheduled work: the stage sweep and the CLV refit (services/worker). */
  maintenance: "lifecycle-maintenance",
} as const;

/** A proactive follow-up for one customer, triggered once by one cause. */
export const FollowUpJob = z.object({
  customerId: z.string().min(1).max(128),
  /** Which playbook, e.g. `thank-you`. */
  playbook: z.string().min(1).max(64),
  /** What triggered it, e.g. `first-purchase`; with customer and playbook it makes the job id. */
  trigger: z.string().min(1).max(256),
  channel: z.enum(["log", "webhook", "email"]),
  /** The event (CloudEvents id) that caused it, for tracing. */
  causationId: z.string().min(1).max(128),
});
export type FollowUpJob = z.infer<typeof FollowUpJob>;

/**
 * Every job type with its payload schema and retry policy. The worker builds one handler
 * per key, so a job type without a handler is a compile error.
 */
export const JOB_CATALOG = {
  "follow-up": {
    queue: QUEUES.followUps,
    schema: FollowUpJob,
    attempts: 5,
    backoff: { type: "exponential", delay: 1_000 },
  },
} as const;
export type JobName = keyof typeof JOB_CATALOG;

/**
 * The BullMQ job id for (customer, playbook, trigger): the same trigger always maps to the
 * same id, so a replay adds nothing. BullMQ rejects ids containing ':' and all-digit ids, and
 * customer ids are free text, so each part is percent-encoded (which encodes ':' and '|')
 * and the parts are joined with '|'.
 */
export function followUpJobId({ customerId, playbook, trigger }: Pick<FollowUpJob, "customerId" | "playbook" | "trigger">): string {
  return ["fu", playbook, customerId, trigger].map(encodeURIComponent).join("|");
}
