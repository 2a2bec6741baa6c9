import { createJobOutcomeRepo, type JobOutcome, type OutboxRepo, type Queryable } from "@lifecycle/db";
import { whyExpired, type FollowUpIntent } from "@lifecycle/domain";
import { FollowUpJob, followUpJobId, followUpQueue, type OutboxMessage } from "@lifecycle/events";

/**
 * The BullMQ job payload of a follow-up intent. Built, not parsed: the intent is typed domain
 * output, and a parse failure here would fail the whole batch's transaction. The relay parses the
 * stored row (a row that does not parse is marked failed, alone) and the worker parses the job.
 */
export function followUpJobFor(i: FollowUpIntent): FollowUpJob {
  return {
    customerId: i.customerId,
    playbook: i.playbook,
    trigger: i.trigger,
    channel: i.channel,
    causationId: i.causationId,
    triggeredAt: i.triggeredAt.toISOString(),
    dueAt: i.dueAt.toISOString(),
    expiresAt: i.expiresAt.toISOString(),
    priority: i.priority,
    context: i.context,
  };
}

/**
 * The `traceparent` an outbox message continues: that of the event which caused it (`causationId`)
 * or else the customer's traced event in the same batch. Undefined when none was traced.
 */
export type TraceOf = (customerId: string, causationId?: string) => string | undefined;

/**
 * The outbox row for a follow-up: its dedupe key is the BullMQ job id, so a replay adds nothing.
 * `traceparent` (not part of the id) lets the relay and the worker continue the cause's trace.
 */
export function followUpMessage(i: FollowUpIntent, traceparent?: string): OutboxMessage & { dueAt: Date } {
  const job = followUpJobFor(i);
  return { kind: "follow-up", dedupeKey: followUpJobId(job), payload: traceparent === undefined ? job : { ...job, traceparent }, dueAt: i.dueAt };
}

/**
 * Writes follow-ups in the caller's transaction. One already expired at `now` (a backfill of
 * history) would only be queued to be skipped: its outcome is recorded as skipped at once, with
 * no attempt, and neither the outbox nor Redis sees it. Returns how many went to the outbox.
 */
export async function writeFollowUps(
  tx: Queryable,
  { outbox, intents, now, traceOf }: { outbox: OutboxRepo; intents: readonly FollowUpIntent[]; now: Date; traceOf?: TraceOf | undefined },
): Promise<number> {
  if (intents.length === 0) return 0;
  const live: ReturnType<typeof followUpMessage>[] = [];
  const skipped: JobOutcome[] = [];
  for (const i of intents) {
    const message = followUpMessage(i, traceOf?.(i.customerId, i.causationId));
    const why = whyExpired(i, now);
    if (why === undefined) live.push(message);
    else skipped.push({ jobId: message.dedupeKey, queue: followUpQueue(i.channel), jobName: "follow-up", customerId: i.customerId, status: "skipped", detail: why, attempts: 0 });
  }
  await createJobOutcomeRepo(tx).recordNew(skipped);
  return outbox.add(live, tx);
}
