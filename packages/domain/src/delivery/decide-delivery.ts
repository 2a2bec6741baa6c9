import { z } from "zod";
import type { ChannelName } from "@lifecycle/events";
import { consentAllows, type ChannelConsent, type Purpose } from "./consent.js";
import { checkFrequencyCap, type CapCandidate } from "./frequency-cap.js";
import { isHeldOut } from "./holdout.js";
import { isTimeZone } from "./local-time.js";
import { quietHoursEnd } from "./quiet-hours.js";

const HHMM = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, "HH:MM, 00:00 to 23:59");

/** How follow-ups may reach people: consent regime, the marketing cap, quiet hours. */
export const DeliverySettings = z.object({
  consentRegime: z.enum(["opt-in", "opt-out"]).default("opt-in"),
  /** At most `max` marketing messages per customer within `windowDays`, across playbooks. */
  marketingCap: z.object({ max: z.number().int().min(1).default(2), windowDays: z.number().positive().default(7) }).default({ max: 2, windowDays: 7 }),
  /** Local hours with no message; equal start and end: none. */
  quietHours: z.object({ start: HHMM.default("21:00"), end: HHMM.default("08:00") }).default({ start: "21:00", end: "08:00" }),
  /** For customers without a `timezone`. */
  defaultTimeZone: z.string().refine(isTimeZone, "an IANA time zone").default("UTC"),
});
export type DeliverySettings = z.infer<typeof DeliverySettings>;

export type DeliveryDecision =
  | { kind: "send" }
  | { kind: "skip"; why: string }
  | { kind: "held-out"; why: string }
  | { kind: "defer"; until: Date; why: string };

export interface DeliveryInput {
  job: CapCandidate & { customerId: string; channel: ChannelName };
  purpose: Purpose;
  holdoutShare: number;
  /** The customer's consent on the job's channel. */
  consent: ChannelConsent | undefined;
  timeZone: string | undefined;
  /** The customer's marketing messages sent so far (any playbook), and those due now beside this one. */
  sentMarketing: readonly { at: Date; playbook: string }[];
  dueMarketing: readonly CapCandidate[];
  now: Date;
  settings: DeliverySettings;
}

/**
 * Whether a follow-up whose condition still holds goes out now, in this order: consent (a
 * customer who may not be contacted is neither treated nor held out, so the holdout compares
 * like with like), the playbook's holdout group (recorded, never sent), the marketing cap
 * (held-out customers use none of it), quiet hours in the customer's time zone for e-mail
 * (deferred to their end, not dropped). The `log` channel reaches nobody: only the holdout
 * applies to it.
 */
export function decideDelivery(input: DeliveryInput): DeliveryDecision {
  const { job, purpose, settings, now } = input;
  const reachesSomeone = job.channel !== "log";
  if (reachesSomeone) {
    const consent = consentAllows({ purpose, channel: job.channel, consent: input.consent, regime: settings.consentRegime });
    if (!consent.send) return { kind: "skip", why: consent.why };
  }
  if (isHeldOut(job.playbook, job.customerId, input.holdoutShare)) {
    return { kind: "held-out", why: `held-out: in the ${job.playbook} control group (${Math.round(input.holdoutShare * 1000) / 10} % of customers)` };
  }
  if (!reachesSomeone) return { kind: "send" };
  if (purpose === "marketing") {
    const cap = checkFrequencyCap({ job, sent: input.sentMarketing, due: input.dueMarketing, cap: settings.marketingCap, now });
    if (!cap.send) return { kind: "skip", why: cap.why };
  }
  // Only e-mail reaches the customer's inbox from here; a webhook reaches your own systems,
  // which get the customer's time zone and consent in the payload and schedule their own sends.
  if (job.channel !== "email") return { kind: "send" };
  const timeZone = input.timeZone && isTimeZone(input.timeZone) ? input.timeZone : settings.defaultTimeZone;
  const until = quietHoursEnd(now, timeZone, settings.quietHours);
  if (until) return { kind: "defer", until, why: `quiet hours ${settings.quietHours.start}–${settings.quietHours.end} in ${timeZone}` };
  return { kind: "send" };
}
