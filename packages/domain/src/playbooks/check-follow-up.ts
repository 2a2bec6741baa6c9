import type { FollowUpJob } from "@lifecycle/events";
import type { StageName } from "../stages/derive-stage.js";
import type { StageRules } from "../stages/stage-rules.js";

/** What a follow-up's condition looks at when its job runs: the customer as it is now. */
export interface FollowUpCheckState {
  stage?: StageName | undefined;
  latestNps?: { score: number; at: Date } | undefined;
  latestCsat?: { score: number; at: Date } | undefined;
  latestCes?: { score: number; at: Date } | undefined;
  /** For ticket-bound playbooks (escalation): the ticket now. */
  ticket?: { firstResponseAt?: Date | undefined; open: boolean } | undefined;
}

export type FollowUpCheck = { send: true } | { send: false; why: string };

const skip = (why: string): FollowUpCheck => ({ send: false, why });
const SEND: FollowUpCheck = { send: true };

/**
 * Why a follow-up is too late to send at `now`, or undefined while it is not. The worker's check
 * and the engine (which records a follow-up expired before it is queued as skipped) share it.
 */
export function whyExpired({ dueAt, expiresAt }: { dueAt: Date; expiresAt: Date }, now: Date): string | undefined {
  return now.getTime() > expiresAt.getTime() ? `expired: due ${dueAt.toISOString()}, checked ${now.toISOString()}` : undefined;
}

/**
 * Re-checks a follow-up when its job runs: later events may have made it moot (a win-back after
 * the customer bought again, an escalation after the response), or it may be too late to send.
 * A moot job is skipped and recorded with the reason, never sent.
 */
export function checkFollowUp({ job, state, now, rules }: { job: FollowUpJob; state: FollowUpCheckState; now: Date; rules: StageRules }): FollowUpCheck {
  const expired = whyExpired({ dueAt: new Date(job.dueAt), expiresAt: new Date(job.expiresAt) }, now);
  if (expired) return skip(expired);
  const triggeredAt = Date.parse(job.triggeredAt);
  const after = (x: { at: Date } | undefined) => x !== undefined && x.at.getTime() > triggeredAt;
  const stageIs = (wanted: StageName) => (state.stage === wanted ? SEND : skip(`no longer ${wanted} (now ${state.stage ?? "unknown"})`));

  switch (job.playbook) {
    case "thank-you":
      return SEND;
    case "csat-survey":
      return after(state.latestCsat) ? skip("already answered a CSAT survey since") : SEND;
    case "recovery": {
      const kind = job.context.kind;
      const latest = kind === "nps" ? state.latestNps : kind === "csat" ? state.latestCsat : kind === "ces" ? state.latestCes : undefined;
      if (!latest || !after(latest)) return SEND;
      const stillNegative =
        (kind === "nps" && latest.score <= rules.detractorMaxScore) || (kind === "csat" && latest.score <= rules.lowCsatMaxScore) || (kind === "ces" && latest.score >= rules.highCesMinScore);
      return stillNegative ? SEND : skip(`a later ${String(kind)} score of ${latest.score} is no longer negative`);
    }
    case "win-back-at-risk":
      return stageIs("at-risk");
    case "win-back-churned":
      return stageIs("churned");
    case "cross-sell":
      return stageIs("repeat");
    case "referral-invitation":
      return state.latestNps && state.latestNps.score < 9 ? skip(`no longer a promoter (latest NPS ${state.latestNps.score})`) : SEND;
    case "escalation":
      if (!state.ticket) return skip("ticket not found");
      if (state.ticket.firstResponseAt) return skip(`answered at ${state.ticket.firstResponseAt.toISOString()}`);
      return state.ticket.open ? SEND : skip("resolved without a response");
    case "birthday-gift":
      return state.stage === "churned" ? skip("customer has churned") : SEND;
    default: {
      const never: never = job.playbook;
      throw new Error(`unknown playbook ${String(never)}`);
    }
  }
}
