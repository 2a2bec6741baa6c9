import { UnrecoverableError, type Job } from "bullmq";
import { FollowUpJob, followUpJobId, type ChannelName } from "@lifecycle/events";
import type { JobOutcomeRepo, Pool } from "@lifecycle/db";
import { birthdayIntent, checkFollowUp, renderFollowUp, type EngineSettings } from "@lifecycle/domain";
import { followUpJobFor, type Clock } from "@lifecycle/engine";
import type { FollowUpQueues } from "@lifecycle/queue";
import { ATTR, SpanKind, traceparentOf, withSpan } from "@lifecycle/telemetry";
import { PermanentDeliveryError, type Channel } from "../channels/channel.js";
import { loadFollowUpCustomer } from "./follow-up-state.js";

export interface FollowUpDeps {
  pool: Pool;
  outcomes: JobOutcomeRepo;
  channels: Partial<Record<ChannelName, Channel>>;
  clock: Clock;
  settings: EngineSettings;
  /** Where next year's birthday gift is queued. */
  followUps: FollowUpQueues;
}

/**
 * Runs one follow-up: re-checks its condition against the customer as it is now (a moot or
 * expired job is skipped and recorded with why), renders it, delivers it through its channel and
 * records the outcome. Failed attempts are retried by BullMQ with backoff; the worker records the
 * final failure. A payload that fails its schema can never succeed, so it fails at once.
 */
export function createFollowUpHandler({ pool, outcomes, channels, clock, settings, followUps }: FollowUpDeps) {
  return async (job: Job): Promise<void> => {
    const parsed = FollowUpJob.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid follow-up payload: ${parsed.error.message}`);
    // The job continues the trace of the event that caused it (through the relay's send span).
    const attributes = {
      [ATTR.messagingSystem]: "bullmq",
      [ATTR.messagingOperationType]: "process",
      [ATTR.messagingDestination]: job.queueName,
      [ATTR.messagingMessageId]: job.id ?? "",
      "lifecycle.playbook": parsed.data.playbook,
      "lifecycle.job.attempt": job.attemptsMade + 1,
    };
    await withSpan(`process ${job.queueName}`, { kind: SpanKind.CONSUMER, parent: parsed.data.traceparent, attributes }, async (span) => {
      const outcome = await run(job, parsed.data, traceparentOf(span));
      span.setAttribute("lifecycle.outcome", outcome);
    });
  };

  /** Checks, delivers and records one follow-up; resolves with the outcome recorded. */
  async function run(job: Job, data: FollowUpJob, traceparent: string | undefined): Promise<"sent" | "skipped"> {
    const record = async (status: "sent" | "skipped", detail: string) => {
      await outcomes.record({ jobId: job.id ?? "", queue: job.queueName, jobName: job.name, customerId: data.customerId, status, detail, attempts: job.attemptsMade + 1 });
      return status;
    };

    const now = (await clock.read(pool)) ?? new Date();
    const ticketId = typeof data.context.ticketId === "string" ? data.context.ticketId : undefined;
    const customer = await loadFollowUpCustomer(pool, data.customerId, ticketId);
    if (!customer) return record("skipped", "customer not found (erased?)");
    const check = checkFollowUp({ job: data, state: customer.state, now, rules: settings.rules });
    if (data.playbook === "birthday-gift" && customer.birthday) await queueNextBirthday(data, customer.birthday);
    if (!check.send) return record("skipped", check.why);

    const channel = channels[data.channel];
    if (!channel) throw new PermanentDeliveryError(`channel ${data.channel} is not configured in this worker`);
    const { detail } = await channel.send({
      id: job.id ?? followUpJobId(data),
      playbook: data.playbook,
      trigger: data.trigger,
      causationId: data.causationId,
      customer: { id: data.customerId, email: customer.email, name: customer.name },
      ...renderFollowUp(data, customer),
      data: { ...data.context, ...customer.facts, triggeredAt: data.triggeredAt },
      traceparent,
    });
    return record("sent", detail);
  }

  /** The gift recurs: when one year's job runs, the next year's is queued (its id makes that idempotent). */
  async function queueNextBirthday(job: FollowUpJob, birthday: string) {
    const from = new Date(Date.parse(job.triggeredAt) + 86_400_000);
    const [next] = birthdayIntent({ customerId: job.customerId, birthday, from, causationId: job.causationId, settings: settings.playbooks });
    if (!next) return;
    const nextJob = followUpJobFor(next);
    const now = (await clock.read(pool)) ?? new Date();
    await followUps.addBulk([{ job: nextJob, jobId: followUpJobId(nextJob), delayMs: next.dueAt.getTime() - now.getTime() }]);
  }
}
