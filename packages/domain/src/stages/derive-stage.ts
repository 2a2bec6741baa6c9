import type { StageFacts } from "./stage-facts.js";
import type { StageRules } from "./stage-rules.js";

export const STAGES = ["prospect", "new", "repeat", "at-risk", "churned"] as const;
export type StageName = (typeof STAGES)[number];

export interface DerivedStage {
  stage: StageName;
  /** Machine-readable why, e.g. `first-purchase`, `inactive-90d`, `detractor-score`. */
  reason: string;
  /** Event time from which this stage's condition holds. */
  since: Date;
  /**
   * The next time the stage could change with no new event (a window running out, a signal
   * expiring, a response target passing). The sweeper looks at the customer again then.
   */
  reviewAt?: Date | undefined;
}

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;
const addMs = (d: Date, ms: number) => new Date(d.getTime() + ms);
const later = (a: Date, b: Date) => (a.getTime() >= b.getTime() ? a : b);

/** A reason a purchasing customer may be at risk: holds from `at` until `until` (or for good). */
interface RiskCondition {
  reason: string;
  at: Date;
  until?: Date | undefined;
}

/**
 * A customer's stage as a function of its facts and the clock only (CONTRACT.md section 2): the
 * same events in any order, at the same `now`, give the same stage. Precedence: an explicit
 * cancellation after the last purchase, then the churn window, then any active at-risk
 * condition, then new/repeat by purchase count. Negative signals count only when they came at or
 * after the last purchase: buying again is the way back.
 */
export function deriveStage({ facts, now, rules }: { facts: StageFacts; now: Date; rules: StageRules }): DerivedStage {
  const lastBuy = facts.lastPurchaseAt;
  if (facts.cancelledAt && (!lastBuy || facts.cancelledAt >= lastBuy)) {
    return { stage: "churned", reason: "cancelled", since: facts.cancelledAt };
  }
  if (!lastBuy || facts.purchaseCount === 0) {
    return { stage: "prospect", reason: facts.registeredAt ? "registered" : "first-contact", since: facts.registeredAt ?? facts.firstSeenAt };
  }

  const churnAt = addMs(lastBuy, rules.churnAfterDays * DAY_MS);
  if (churnAt <= now) return { stage: "churned", reason: `inactive-${rules.churnAfterDays}d`, since: churnAt };

  const conditions = riskConditions(facts, lastBuy, rules);
  const active = conditions.filter((c) => c.at <= now && (!c.until || now < c.until));
  const pending = [churnAt, ...conditions.flatMap((c) => [c.at, c.until])].filter((t): t is Date => t !== undefined && t > now);
  const reviewAt = pending.length ? new Date(Math.min(...pending.map((t) => t.getTime()))) : undefined;

  const firstActive = active.reduce<RiskCondition | undefined>((best, c) => (!best || c.at < best.at ? c : best), undefined);
  if (firstActive) return { stage: "at-risk", reason: firstActive.reason, since: firstActive.at, reviewAt };

  // Not at risk: since the last purchase, or since the last at-risk condition ran out after it.
  const since = conditions.reduce((s, c) => (c.until && c.until <= now ? later(s, c.until) : s), lastBuy);
  return facts.purchaseCount >= 2
    ? { stage: "repeat", reason: "repeat-purchase", since, reviewAt }
    : { stage: "new", reason: "first-purchase", since, reviewAt };
}

function riskConditions(facts: StageFacts, lastBuy: Date, rules: StageRules): RiskCondition[] {
  const signalMs = rules.negativeSignalDays * DAY_MS;
  const inactivity: RiskCondition = facts.pAliveBelowThresholdAt
    ? { reason: `p-alive-below-${rules.pAliveThreshold}`, at: later(facts.pAliveBelowThresholdAt, lastBuy) }
    : { reason: `inactive-${rules.atRiskAfterDays}d`, at: addMs(lastBuy, rules.atRiskAfterDays * DAY_MS) };
  const signal = (reason: string, at: Date | undefined): RiskCondition[] =>
    at && at >= lastBuy ? [{ reason, at, until: addMs(at, signalMs) }] : [];
  return [
    inactivity,
    ...signal("detractor-score", facts.latestDetractorAt),
    ...signal("low-csat", facts.latestLowCsatAt),
    ...signal("high-effort", facts.latestHighCesAt),
    ...signal("ticket-reopened", facts.latestTicketReopenedAt),
    ...facts.unansweredTicketsOpenedAt.flatMap((opened) => signal("ticket-unanswered", addMs(opened, rules.responseTargetMinutes * MINUTE_MS))),
  ];
}
