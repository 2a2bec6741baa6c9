import type { FollowUpJob } from "@lifecycle/events";

/** Subject and text of a follow-up: plain defaults a team replaces with its own templates. */
export function renderFollowUp(job: FollowUpJob, customer: { name?: string | undefined }): { subject: string; text: string } {
  const hello = customer.name ? `Hello ${customer.name},` : "Hello,";
  const c = job.context;
  switch (job.playbook) {
    case "thank-you":
      return { subject: "Thank you for your first order", text: `${hello}\n\nthank you for your first order with us. Here is how to get the most out of it.` };
    case "csat-survey":
      return {
        subject: "How did we do?",
        text: `${hello}\n\nhow satisfied are you with ${c.ticketId !== undefined ? `our help with ticket ${String(c.ticketId)}` : `your order ${String(c.orderId ?? "")}`}? Answer from 1 to 5.`,
      };
    case "recovery":
      return { subject: "We are sorry: can we make it right?", text: `${hello}\n\nyour last rating told us something went wrong. A member of our team will contact you.` };
    case "win-back-at-risk":
      return { subject: "We miss you", text: `${hello}\n\nit has been a while. Here is an offer to welcome you back.` };
    case "win-back-churned":
      return { subject: "Come back: an offer for you", text: `${hello}\n\nwe would love to see you again. This offer is valid for 30 days.` };
    case "referral-invitation":
      return { subject: "Share what you like", text: `${hello}\n\nthank you for recommending us. Invite a friend and you both get a reward.` };
    case "cross-sell":
      return { subject: "Picked for you", text: `${hello}\n\nbased on your orders, you may like these.` };
    case "escalation":
      return { subject: `Ticket ${String(c.ticketId ?? "")} is past its response target`, text: `Ticket ${String(c.ticketId ?? "")} of customer ${job.customerId} has had no response for over the target time.` };
    case "birthday-gift":
      return { subject: "Happy birthday!", text: `${hello}\n\nhappy birthday! A small gift is waiting for you.` };
    default: {
      const never: never = job.playbook;
      throw new Error(`unknown playbook ${String(never)}`);
    }
  }
}
