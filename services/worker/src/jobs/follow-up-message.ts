import { withoutPersonalContext, type FollowUpJob } from "@lifecycle/events";
import { moneyText, type FollowUpTemplates, type TemplateVariables } from "@lifecycle/templates";
import { PermanentDeliveryError } from "../channels/channel.js";
import type { FollowUpCustomer } from "./follow-up-state.js";

/**
 * A follow-up's context as its message shows it: personal values (the birthday) from the customer
 * as loaded at send time, never from the job, whose payload may predate an erasure or a change.
 */
export function contextAtSend(job: FollowUpJob, customer: FollowUpCustomer): FollowUpJob["context"] {
  return { ...withoutPersonalContext(job).context, ...(customer.birthday ? { birthday: customer.birthday } : {}) };
}

/** What the templates see of a follow-up's customer, as loaded for its check. */
export function templateVariables(job: FollowUpJob, customer: FollowUpCustomer, unsubscribeUrl: string | undefined): TemplateVariables {
  const { facts } = customer;
  return {
    customer: {
      id: job.customerId,
      name: customer.name,
      email: customer.email,
      stage: customer.state.stage,
      historicalClv: moneyText(facts.historicalClv),
      predictedClv: moneyText(facts.predictedClv),
      healthScore: typeof facts.healthScore === "number" ? facts.healthScore : undefined,
      locale: customer.locale,
      timeZone: customer.timeZone,
    },
    playbook: job.playbook,
    trigger: job.trigger,
    context: contextAtSend(job, customer),
    unsubscribeUrl,
  };
}

/**
 * Subject, text and HTML of a follow-up in the customer's locale. A template that fails to
 * render will fail the same way on every retry, so the job fails at once, naming the file.
 */
export async function renderFollowUpMessage(
  templates: FollowUpTemplates | Promise<FollowUpTemplates>,
  { job, customer, unsubscribeUrl }: { job: FollowUpJob; customer: FollowUpCustomer; unsubscribeUrl: string | undefined },
): Promise<{ subject: string; text: string; html: string }> {
  const result = await (await templates).render(job.playbook, customer.locale, templateVariables(job, customer, unsubscribeUrl));
  if (!result.ok) throw new PermanentDeliveryError(`template ${result.error.file} failed: ${result.error.reason}`);
  const { subject, text, html } = result.value;
  return { subject, text, html };
}
