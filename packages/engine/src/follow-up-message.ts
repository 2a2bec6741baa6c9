import type { OutboxMessage } from "@lifecycle/db";
import type { FollowUpIntent } from "@lifecycle/domain";
import { FollowUpJob, followUpJobId } from "@lifecycle/events";

/** The BullMQ job payload of a follow-up intent. */
export function followUpJobFor(i: FollowUpIntent): FollowUpJob {
  return FollowUpJob.parse({
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
  });
}

/** The outbox row for a follow-up: its dedupe key is the BullMQ job id, so a replay adds nothing. */
export function followUpMessage(i: FollowUpIntent): OutboxMessage {
  const job = followUpJobFor(i);
  return { kind: "follow-up", dedupeKey: followUpJobId(job), payload: job };
}
