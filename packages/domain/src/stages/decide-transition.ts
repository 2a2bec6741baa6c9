import type { DerivedStage, StageName } from "./derive-stage.js";

export interface CurrentStage {
  stage: StageName;
  since: Date;
}

export interface StageTransition {
  /** Null for a customer's first stage. */
  from: StageName | null;
  to: StageName;
  reason: string;
  /** Event time of the change (not when it was computed). */
  at: Date;
}

const isLapsed = (s: StageName) => s === "at-risk" || s === "churned";

/**
 * The transition from the stored stage to the derived one, if they differ. Coming back from
 * at-risk or churned is `reactivated` when a purchase after the lapse brought it (at that
 * purchase); `signal-expired` when an at-risk condition ran out (at that time); and
 * `signal-cleared` when the condition went away otherwise (a ticket answered, a better score), at
 * the clock's `now`, the moment it was observed.
 */
export function decideTransition({ current, derived, lastPurchaseAt, now }: { current: CurrentStage | undefined; derived: DerivedStage; lastPurchaseAt: Date | undefined; now: Date }): StageTransition | undefined {
  if (current?.stage === derived.stage) return undefined;
  const from = current?.stage ?? null;
  const comingBack = current !== undefined && isLapsed(current.stage) && !isLapsed(derived.stage) && derived.stage !== "prospect";
  if (!comingBack) return { from, to: derived.stage, reason: derived.reason, at: derived.since };
  if (lastPurchaseAt && lastPurchaseAt > current.since) return { from, to: derived.stage, reason: "reactivated", at: lastPurchaseAt };
  if (derived.since > current.since) return { from, to: derived.stage, reason: "signal-expired", at: derived.since };
  return { from, to: derived.stage, reason: "signal-cleared", at: now };
}
