import { z } from "zod";
import { Traceparent } from "./trace-context.js";

/** BullMQ queue names (the configured prefix is applied by the queue package). */
export const QUEUES = {
  followUps: "follow-ups",
  /** The engine's scheduled work: the stage sweep and the CLV refit (services/worker). */
  maintenance: "lifecycle-maintenance",
} as const;

/** The follow-up playbooks (CONTRACT.md section 4); their settings live in packages/domain. */
export const PLAYBOOKS = [
  "thank-you",
  "csat-survey",
  "recovery",
  "win-back-at-risk",
  "win-back-churned",
  "referral-invitation",
  "cross-sell",
  "escalation",
  "birthday-gift",
] as const;
export const PlaybookName = z.enum(PLAYBOOKS);
export type PlaybookName = z.infer<typeof PlaybookName>;

/** Delivery channels; each has its own BullMQ queue, so each has its own rate limit. */
export const CHANNELS = ["log", "webhook", "email"] as const;
export const ChannelName = z.enum(CHANNELS);
export type ChannelName = z.infer<typeof ChannelName>;

/** The queue of a channel's follow-ups. */
export const followUpQueue = (channel: ChannelName) => `${QUEUES.followUps}-${channel}`;

const Instant = z.iso.datetime({ offset: true });

/** A proactive follow-up for one customer, triggered once by one cause. */
export const FollowUpJob = z.object({
  customerId: z.string().min(1).max(128),
  playbook: PlaybookName,
  /** What triggered it, e.g. `first-purchase`; with customer and playbook it makes the job id. */
  trigger: z.string().min(1).max(256),
  channel: ChannelName,
  /** The event (CloudEvents id) or stage change that caused it, for tracing. */
  causationId: z.string().min(1).max(160),
  /** Event time of the trigger; when the job is due; after when it is skipped as expired. */
  triggeredAt: Instant,
  dueAt: Instant,
  expiresAt: Instant,
  /** BullMQ priority: 1 runs first. */
  priority: z.number().int().min(1).max(2_097_152).default(10),
  /** What the condition check and the message need (order, ticket, survey kind and score, stage). */
  context: z.record(z.string(), z.union([z.string(), z.number()])).default({}),
  /** The span that queued it (the outbox relay's publish): the worker's spans continue that trace. */
  traceparent: Traceparent,
});
export type FollowUpJob = z.infer<typeof FollowUpJob>;

/**
 * The keys of a follow-up's `context` that hold personal data (a birthday gift's birthday). The
 * worker takes them from the customer at send time, never from the job, and an erasure removes
 * them from the outbox and from BullMQ.
 */
export const PERSONAL_CONTEXT_KEYS = ["birthday"] as const;

const personalContextKeys = new Set<string>(PERSONAL_CONTEXT_KEYS);

/** A follow-up's payload without its personal context (PERSONAL_CONTEXT_KEYS). */
export function withoutPersonalContext<J extends { context: Record<string, string | number> }>(job: J): J {
  const context = Object.fromEntries(Object.entries(job.context).filter(([key]) => !personalContextKeys.has(key)));
  return { ...job, context };
}

/**
 * Every job type with its payload schema and retry policy. The worker builds one handler
 * per key, so a job type without a handler is a compile error.
 */
export const JOB_CATALOG = {
  "follow-up": {
    /** One queue per channel: see `followUpQueue`. */
    queue: QUEUES.followUps,
    schema: FollowUpJob,
    /**
     * Enough attempts to outlast an outage of hours: with the worker's default schedule
     * (`followUpRetryDelayMs`: 10 s doubling up to 1 h) the 20th attempt comes about 11.4 hours
     * after the first. An outage the channel's circuit breaker sees costs no attempts at all.
     */
    attempts: 20,
    /** The worker computes the delay (`followUpRetryDelayMs`) from its own settings. */
    backoff: { type: "capped-exponential" },
  },
} as const;

/** The retry schedule of follow-ups: exponential from `baseMs`, never longer than `maxMs`. */
export interface RetrySchedule {
  baseMs: number;
  maxMs: number;
}

/** How long to wait before the next attempt, after `attemptsMade` failed ones (1, 2, …). */
export function followUpRetryDelayMs(attemptsMade: number, { baseMs, maxMs }: RetrySchedule): number {
  const exponent = Math.max(0, attemptsMade - 1);
  // 2 ** 40 and beyond is past any cap; stop there so the product stays finite.
  return Math.min(maxMs, baseMs * 2 ** Math.min(exponent, 40));
}
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

/** The parts of a follow-up job id: the inverse of `followUpJobId`; undefined for any other id. */
export function followUpJobParts(id: string): { playbook: string; customerId: string; trigger: string } | undefined {
  const parts = id.split("|");
  if (parts.length !== 4 || parts[0] !== "fu") return undefined;
  const [playbook, customerId, trigger] = parts.slice(1).map(decodeURIComponent);
  return playbook && customerId && trigger ? { playbook, customerId, trigger } : undefined;
}

/** The channel a follow-up queue serves (the inverse of `followUpQueue`). */
export const channelOfQueue = (queue: string): string => queue.replace(new RegExp(`^${QUEUES.followUps}-`), "");
