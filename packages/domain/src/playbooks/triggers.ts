import type { LifecycleEvent } from "@lifecycle/events";
import type { StageRules } from "../stages/stage-rules.js";
import type { StageTransition } from "../stages/decide-transition.js";
import { instantAt, isTimeZone } from "../delivery/local-time.js";
import type { ChannelName, PlaybookName, PlaybookSettings } from "./playbook-settings.js";

/** A follow-up to queue: one per (customer, playbook, trigger), which makes its job id. */
export interface FollowUpIntent {
  customerId: string;
  playbook: PlaybookName;
  /** What triggered it, unique per customer and playbook: a replay maps to the same job. */
  trigger: string;
  /** The event that caused it (CloudEvents id), or the transition (`stage:<to>@<time>`). */
  causationId: string;
  /** Event time of the trigger. */
  triggeredAt: Date;
  dueAt: Date;
  /** After this the job is skipped as expired rather than sent late. */
  expiresAt: Date;
  channel: ChannelName;
  priority: number;
  /** What the condition check and the message need: order, ticket, survey kind and score, stage. */
  context: Record<string, string | number>;
}

const MINUTE_MS = 60_000;

function intent(
  settings: PlaybookSettings,
  playbook: PlaybookName,
  base: { customerId: string; trigger: string; causationId: string; triggeredAt: Date; dueFrom?: Date; context?: Record<string, string | number> },
): FollowUpIntent[] {
  const p = settings[playbook];
  if (!p.enabled) return [];
  const dueAt = new Date((base.dueFrom ?? base.triggeredAt).getTime() + p.delayMinutes * MINUTE_MS);
  return [
    {
      customerId: base.customerId,
      playbook,
      trigger: base.trigger,
      causationId: base.causationId,
      triggeredAt: base.triggeredAt,
      dueAt,
      expiresAt: new Date(dueAt.getTime() + p.expiresAfterMinutes * MINUTE_MS),
      channel: p.channel,
      priority: p.priority,
      context: base.context ?? {},
    },
  ];
}

/**
 * The next birthday on or after `from`, at 00:00 UTC (a 29 February birthday falls on 28 February
 * in other years).
 */
export function nextBirthday(birthday: string, from: Date): Date {
  const [, mm, dd] = birthday.split("-").map(Number);
  const month = (mm ?? 1) - 1;
  const day = dd ?? 1;
  const at = (year: number) => {
    const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
    return new Date(Date.UTC(year, month, Math.min(day, lastDay)));
  };
  const startOfDay = new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth(), from.getUTCDate()));
  const thisYear = at(from.getUTCFullYear());
  return thisYear >= startOfDay ? thisYear : at(from.getUTCFullYear() + 1);
}

/**
 * The birthday-gift follow-up for the birthday on or after `from`. With the customer's time zone
 * the birthday starts at their local midnight and the delay (09:00 by default) is local wall
 * time, daylight-saving days included; without one, UTC.
 */
export function birthdayIntent({
  customerId,
  birthday,
  from,
  causationId,
  settings,
  timeZone = "UTC",
}: {
  customerId: string;
  birthday: string;
  from: Date;
  causationId: string;
  settings: PlaybookSettings;
  timeZone?: string | undefined;
}): FollowUpIntent[] {
  const day = nextBirthday(birthday, from);
  const date = { year: day.getUTCFullYear(), month: day.getUTCMonth() + 1, day: day.getUTCDate() };
  const zone = isTimeZone(timeZone) ? timeZone : "UTC";
  const delay = settings["birthday-gift"].delayMinutes;
  const midnight = instantAt({ ...date, hour: 0, minute: 0 }, zone);
  // Within the day: that local wall time; a delay of a day or more: that long after midnight.
  const dueAt = delay < 1_440 ? instantAt({ ...date, hour: Math.floor(delay / 60), minute: Math.floor(delay % 60) }, zone) : new Date(midnight.getTime() + delay * MINUTE_MS);
  // intent() adds the delay to dueFrom: start from the due time less the delay.
  const dueFrom = new Date(dueAt.getTime() - delay * MINUTE_MS);
  return intent(settings, "birthday-gift", { customerId, trigger: `birthday-${date.year}`, causationId, triggeredAt: midnight, dueFrom, context: { birthday } });
}

/**
 * Follow-ups that newly recorded events trigger (the caller passes only events seen for the first
 * time, and the customers whose first purchase is among them). Stage-driven ones come from
 * `triggersForTransition`.
 */
export function triggersForEvents({
  events,
  firstPurchases,
  settings,
  rules,
  now,
}: {
  events: readonly LifecycleEvent[];
  firstPurchases: readonly { customerId: string; eventId: string; time: Date }[];
  settings: PlaybookSettings;
  rules: StageRules;
  now: Date;
}): FollowUpIntent[] {
  const out: FollowUpIntent[] = [];
  for (const f of firstPurchases) {
    out.push(...intent(settings, "thank-you", { customerId: f.customerId, trigger: "first-purchase", causationId: f.eventId, triggeredAt: f.time }));
  }
  for (const e of events) {
    const base = { customerId: e.subject, causationId: e.id, triggeredAt: new Date(e.time) };
    switch (e.type) {
      case "purchase.completed":
        out.push(...intent(settings, "csat-survey", { ...base, trigger: `order-${e.data.orderId}`, context: { orderId: e.data.orderId } }));
        break;
      case "ticket.resolved":
        out.push(...intent(settings, "csat-survey", { ...base, trigger: `ticket-${e.data.ticketId}`, context: { ticketId: e.data.ticketId } }));
        break;
      case "ticket.opened":
        out.push(
          ...intent(settings, "escalation", {
            ...base,
            trigger: `ticket-${e.data.ticketId}`,
            dueFrom: new Date(base.triggeredAt.getTime() + rules.responseTargetMinutes * MINUTE_MS),
            context: { ticketId: e.data.ticketId },
          }),
        );
        break;
      case "survey.responded": {
        const { kind, score } = e.data;
        const negative =
          (kind === "nps" && score <= rules.detractorMaxScore) || (kind === "csat" && score <= rules.lowCsatMaxScore) || (kind === "ces" && score >= rules.highCesMinScore);
        if (negative) out.push(...intent(settings, "recovery", { ...base, trigger: `survey-${e.id}`, context: { kind, score } }));
        // One referral invitation per promoter per year, however often they answer.
        if (kind === "nps" && score >= 9) {
          out.push(...intent(settings, "referral-invitation", { ...base, trigger: `promoter-${base.triggeredAt.getUTCFullYear()}`, context: { kind, score } }));
        }
        break;
      }
      case "customer.registered":
        if (e.data.birthday) out.push(...birthdayIntent({ customerId: e.subject, birthday: e.data.birthday, from: later(base.triggeredAt, now), causationId: e.id, settings, timeZone: e.data.timezone }));
        break;
      case "customer.cancelled":
      case "customer.consent.updated":
      case "customer.identified":
      case "customer.merged":
      case "purchase.refunded":
      case "ticket.responded":
      case "ticket.reopened":
        break;
      default:
        assertNever(e);
    }
  }
  return out;
}

/** Follow-ups a stage change triggers: win-back offers, and a cross-sell on becoming a repeat buyer. */
export function triggersForTransition({ customerId, transition, settings }: { customerId: string; transition: StageTransition; settings: PlaybookSettings }): FollowUpIntent[] {
  const stamp = transition.at.toISOString();
  const base = { customerId, causationId: `stage:${transition.to}@${stamp}`, triggeredAt: transition.at, context: { stage: transition.to, reason: transition.reason } };
  switch (transition.to) {
    case "at-risk":
      return intent(settings, "win-back-at-risk", { ...base, trigger: `at-risk-${stamp}` });
    case "churned":
      return intent(settings, "win-back-churned", { ...base, trigger: `churned-${stamp}` });
    case "repeat":
      return intent(settings, "cross-sell", { ...base, trigger: `repeat-${stamp}` });
    case "prospect":
    case "new":
      return [];
    default:
      return assertNever(transition.to);
  }
}

const later = (a: Date, b: Date) => (a >= b ? a : b);

function assertNever(x: never): never {
  throw new Error(`unexpected ${JSON.stringify(x)}`);
}
