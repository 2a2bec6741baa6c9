import { z } from "zod";
import { FollowUpJob } from "./jobs.js";
import { CustomerErased } from "./schemas/customer-erased.js";
import { CustomerMergedOut } from "./schemas/customer-merged.js";
import { StageChanged } from "./schemas/stage-changed.js";

/** A follow-up for BullMQ; its dedupe key is the job id, so adding it twice adds it once. */
export const FollowUpOutboxMessage = z.object({
  kind: z.literal("follow-up"),
  dedupeKey: z.string().min(1),
  payload: FollowUpJob,
});

/** A stage change for `lifecycle-stage-changed`; its CloudEvents id is stable across re-sends. */
export const StageChangedOutboxMessage = z.object({
  kind: z.literal("stage-changed"),
  dedupeKey: z.string().min(1),
  payload: StageChanged,
});

/** An erasure for `lifecycle-stage-changed` (CRMs erase their copy), written by the erasure's transaction. */
export const CustomerErasedOutboxMessage = z.object({
  kind: z.literal("customer-erased"),
  dedupeKey: z.string().min(1),
  payload: CustomerErased,
});

/** A merge for `lifecycle-stage-changed` (CRMs repoint the merged ids), written by the ingest transaction that merged. */
export const CustomerMergedOutboxMessage = z.object({
  kind: z.literal("customer-merged"),
  dedupeKey: z.string().min(1),
  payload: CustomerMergedOut,
});

/**
 * What the transactional outbox carries: written with the state it announces, parsed again by
 * the relay before it is published (a row that no longer parses is marked failed, not retried).
 */
export const OutboxMessage = z.discriminatedUnion("kind", [FollowUpOutboxMessage, StageChangedOutboxMessage, CustomerErasedOutboxMessage, CustomerMergedOutboxMessage]);
export type OutboxMessage = z.infer<typeof OutboxMessage>;
