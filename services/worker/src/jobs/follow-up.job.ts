import { UnrecoverableError, type Job } from "bullmq";
import { FollowUpJob } from "@lifecycle/events";
import type { JobOutcomeRepo } from "@lifecycle/db";
import type { LogChannel } from "../channels/log.channel.js";

export interface FollowUpDeps {
  outcomes: JobOutcomeRepo;
  channels: { log: LogChannel };
}

/**
 * Delivers one follow-up through its channel and records the outcome. A payload that fails
 * its schema can never succeed, so it fails at once (UnrecoverableError) instead of retrying.
 */
export function createFollowUpHandler({ outcomes, channels }: FollowUpDeps) {
  return async (job: Job): Promise<void> => {
    const parsed = FollowUpJob.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid follow-up payload: ${parsed.error.message}`);
    const data = parsed.data;
    const channel = data.channel === "log" ? channels.log : undefined;
    // Webhook and e-mail channels arrive with the follow-ups issue; until then they are refused loudly.
    if (!channel) throw new UnrecoverableError(`channel ${data.channel} is not available in this worker`);
    const { detail } = await channel.deliver(data);
    await outcomes.record({
      jobId: job.id ?? "",
      queue: job.queueName,
      jobName: job.name,
      customerId: data.customerId,
      status: "sent",
      detail,
      attempts: job.attemptsMade + 1,
    });
  };
}
