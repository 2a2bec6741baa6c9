import { DelayedError, UnrecoverableError, type Job } from "bullmq";
import { FollowUpJob, followUpJobId, PLAYBOOKS, type ChannelName } from "@lifecycle/events";
import { createMarketingCapRepo, type JobOutcomeRepo, type OutboxRepo, type Pool } from "@lifecycle/db";
import { birthdayIntent, checkFollowUp, decideDelivery, type EngineSettings } from "@lifecycle/domain";
import { followUpMessage, unsubscribeUrl, type Clock } from "@lifecycle/engine";
import { ATTR, SpanKind, traceparentOf, withSpan } from "@lifecycle/telemetry";
import type { FollowUpTemplates } from "@lifecycle/templates";
import { PermanentDeliveryError, type Channel } from "../channels/channel.js";
import { decideHoldingCapSlot } from "./cap-slot.js";
import { duplicateAfterMerge, resolveRecipient } from "./follow-up-claim.js";
import { loadDeliveryContext } from "./delivery-context.js";
import { contextAtSend, renderFollowUpMessage } from "./follow-up-message.js";
import { loadFollowUpCustomer } from "./follow-up-state.js";

export interface FollowUpDeps {
  pool: Pool;
  outcomes: JobOutcomeRepo;
  channels: Partial<Record<ChannelName, Channel>>;
  clock: Clock;
  settings: EngineSettings;
  /**
   * Where next year's birthday gift goes: the outbox, like every follow-up, so it waits in Postgres
   * until nearly due and a reconciliation after a Redis loss finds it.
   */
  outbox: OutboxRepo;
  /** Signs the one-click unsubscribe link of marketing e-mail; unset: marketing e-mail is skipped (it must carry one). */
  unsubscribe?: { baseUrl: string; secret: string; linkDays: number } | undefined;
  /** Subject, text and HTML per playbook and locale, parsed at start-up (a promise: loaded on first use). */
  templates: FollowUpTemplates | Promise<FollowUpTemplates>;
}

const DAY_MS = 86_400_000;
type Outcome = "sent" | "skipped" | "held-out" | "deferred" | "done-before";

/**
 * Runs one follow-up: re-checks its condition against the customer as it is now (a moot or
 * expired job is skipped and recorded with why), renders it, delivers it through its channel and
 * records the outcome. Failed attempts are retried by BullMQ with backoff; the worker records the
 * final failure. A payload that fails its schema can never succeed, so it fails at once.
 */
export function createFollowUpHandler({ pool, outcomes, channels, clock, settings, outbox, unsubscribe, templates }: FollowUpDeps) {
  const marketingPlaybooks = PLAYBOOKS.filter((p) => settings.playbooks[p].purpose === "marketing");
  const capSlots = createMarketingCapRepo(pool);
  return async (job: Job, token?: string): Promise<void> => {
    const payload = FollowUpJob.safeParse(job.data);
    if (!payload.success) throw new UnrecoverableError(`invalid follow-up payload: ${payload.error.message}`);
    // Queued for an id merged since: it is the survivor's follow-up now (checked, capped, sent and
    // recorded as theirs); the job keeps its id.
    const recipient = await resolveRecipient(pool, payload.data.customerId);
    const parsed = { data: { ...payload.data, customerId: recipient.customerId } };
    // The job continues the trace of the event that caused it (through the relay's send span).
    const attributes = {
      [ATTR.messagingSystem]: "bullmq",
      [ATTR.messagingOperationType]: "process",
      [ATTR.messagingDestination]: job.queueName,
      [ATTR.messagingMessageId]: job.id ?? "",
      "lifecycle.playbook": parsed.data.playbook,
      "lifecycle.job.attempt": job.attemptsMade + 1,
    };
    // A marketing job competes for its customer's cap while it is attempted (cap-slot.ts).
    const competing = settings.playbooks[parsed.data.playbook].purpose === "marketing";
    const jobId = job.id ?? followUpJobId(parsed.data);
    if (competing) await capSlots.enter({ jobId, customerId: parsed.data.customerId, priority: parsed.data.priority, dueAt: new Date(parsed.data.dueAt) });
    try {
      const outcome = await withSpan(`process ${job.queueName}`, { kind: SpanKind.CONSUMER, parent: parsed.data.traceparent, attributes }, async (span) => {
        const result = await run(job, parsed.data, recipient.merged, traceparentOf(span), token);
        span.setAttribute("lifecycle.outcome", result);
        return result;
      });
      // Quiet hours: the job went back to BullMQ's delayed set (same id, same attempt count).
      if (outcome === "deferred") throw new DelayedError();
    } finally {
      // The attempt is over: its outcome (a `sent` one counts against the cap) or none speaks for it
      // now. Not failing the job for this: a delivered job would be sent again, and a claim left
      // behind stops counting once the outcome is there, or after 15 minutes.
      if (competing) await capSlots.leave(jobId).catch(() => undefined);
    }
  };

  /** Checks, delivers and records one follow-up; resolves with the outcome recorded. */
  async function run(job: Job, data: FollowUpJob, merged: boolean, traceparent: string | undefined, token: string | undefined): Promise<Outcome> {
    const record = async (status: "sent" | "skipped" | "held-out", detail: string) => {
      await outcomes.record({ jobId: job.id ?? "", queue: job.queueName, jobName: job.name, customerId: data.customerId, status, detail, attempts: job.attemptsMade + 1 });
      return status;
    };

    // Re-added after a Redis loss, but it had already run to the end: nothing to do (or send again).
    if (job.id && (await outcomes.finished(job.id))) return "done-before";
    const now = (await clock.read(pool)) ?? new Date();
    const ticketId = typeof data.context.ticketId === "string" ? data.context.ticketId : undefined;
    const customer = await loadFollowUpCustomer(pool, data.customerId, ticketId);
    if (!customer) return record("skipped", "customer not found");
    // Queued before an erasure (one running as it came; a removed one re-added by a race): the
    // customer asked to be forgotten, so nothing goes out, whatever channel. Later events make new jobs.
    if (customer.erasedAt && job.timestamp <= customer.erasedAt.getTime()) return record("skipped", "customer-erased: their personal data was erased after this follow-up was queued");
    // The birthday is read now, not from the job: an erased or removed one sends no gift.
    if (data.playbook === "birthday-gift" && !customer.birthday) return record("skipped", "no-birthday: the customer has no birthday on file now");
    if (merged) {
      const duplicate = await duplicateAfterMerge(pool, { customerId: data.customerId, playbook: data.playbook, trigger: data.trigger, jobId: job.id ?? followUpJobId(data) });
      if (duplicate) return record("skipped", duplicate);
    }
    const check = checkFollowUp({ job: data, state: customer.state, now, rules: settings.rules });
    if (data.playbook === "birthday-gift" && customer.birthday) await queueNextBirthday(data, customer.birthday, customer.timeZone);
    if (!check.send) return record("skipped", check.why);

    // Consent, the playbook's control group, the marketing cap and quiet hours (decideDelivery).
    const playbook = settings.playbooks[data.playbook];
    const { delivery } = settings;
    const jobId = job.id ?? followUpJobId(data);
    // A marketing send takes its cap slot as it is decided, one job of the customer at a time
    // (cap-slot.ts): concurrent jobs cannot both take the last one.
    const marketingSlot = playbook.purpose === "marketing" ? { jobId, customerId: data.customerId } : undefined;
    const { context, decision } = await decideHoldingCapSlot(pool, capSlots, marketingSlot, async (db) => {
      const context = await loadDeliveryContext(db, { customerId: data.customerId, channel: data.channel, marketingPlaybooks, since: new Date(now.getTime() - delivery.marketingCap.windowDays * DAY_MS), now, jobId });
      const decision = decideDelivery({
        job: { id: jobId, customerId: data.customerId, channel: data.channel, playbook: data.playbook, priority: data.priority, dueAt: new Date(data.dueAt) },
        purpose: playbook.purpose,
        holdoutShare: playbook.holdoutShare,
        consent: context.consent,
        timeZone: customer.timeZone,
        sentMarketing: context.sentMarketing,
        // Due together: the customer's other marketing jobs still deciding (priority says who goes first).
        dueMarketing: context.dueMarketing,
        now,
        settings: delivery,
      });
      return { context, decision };
    });
    if (decision.kind === "skip") return record("skipped", decision.why);
    if (decision.kind === "held-out") return record("held-out", decision.why);
    if (decision.kind === "defer") {
      if (!token) throw new Error(`cannot defer ${job.id ?? ""} without the worker's lock token`);
      await job.moveToDelayed(decision.until.getTime(), token);
      return "deferred";
    }
    const marketing = playbook.purpose === "marketing";
    const link = marketing && data.channel === "email" && unsubscribe
      ? unsubscribeUrl(unsubscribe.baseUrl, { customerId: data.customerId, channel: "email", expiresAt: new Date(now.getTime() + unsubscribe.linkDays * DAY_MS) }, unsubscribe.secret)
      : undefined;
    if (marketing && data.channel === "email" && !link) return record("skipped", "no-unsubscribe-link: marketing e-mail needs PUBLIC_API_URL and UNSUBSCRIBE_SECRET");

    const channel = channels[data.channel];
    if (!channel) throw new PermanentDeliveryError(`channel ${data.channel} is not configured in this worker`);
    const { detail } = await channel.send({
      id: job.id ?? followUpJobId(data),
      playbook: data.playbook,
      trigger: data.trigger,
      causationId: data.causationId,
      customer: { id: data.customerId, email: customer.email, name: customer.name },
      ...(await renderFollowUpMessage(templates, { job: data, customer, unsubscribeUrl: link })),
      data: { ...contextAtSend(data, customer), ...customer.facts, triggeredAt: data.triggeredAt },
      purpose: playbook.purpose,
      consent: context.consent?.suppressed ? "suppressed" : (context.consent?.status ?? "unknown"),
      ...(customer.timeZone ? { timeZone: customer.timeZone } : {}),
      ...(link ? { unsubscribeUrl: link } : {}),
      traceparent,
    });
    return record("sent", detail);
  }

  /** The gift recurs: when one year's job runs, the next year's is queued (its id makes that idempotent). */
  async function queueNextBirthday(job: FollowUpJob, birthday: string, timeZone: string | undefined) {
    // From 1 January after this gift's year (its trigger, birthday-<year>): a local midnight east of
    // UTC falls on the previous UTC day, so "a day after the trigger" could be this year's birthday again.
    const year = Number(/^birthday-(\d{4})$/.exec(job.trigger)?.[1] ?? new Date(job.dueAt).getUTCFullYear());
    const from = new Date(Date.UTC(year + 1, 0, 1));
    const [next] = birthdayIntent({ customerId: job.customerId, birthday, from, causationId: job.causationId, settings: settings.playbooks, timeZone });
    if (!next) return;
    // Its dedupe key is its job id: a retried gift adds nothing.
    await outbox.add([followUpMessage(next)]);
  }
}
