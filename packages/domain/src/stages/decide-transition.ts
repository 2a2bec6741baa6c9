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
 * at-risk or churned is a `reactivated` when a purchase brought it (the derived stage starts at
 * the last purchase), and `signal-expired` when the at-risk condition simply ran out.
 */
export function decideTransition({ current, derived, lastPurchaseAt }: { current: CurrentStage | undefined; derived: DerivedStage; lastPurchaseAt: Date | undefined }): StageTransition | undefined {
  if (current?.stage === derived.stage) return undefined;
  const comingBack = current !== undefined && isLapsed(current.stage) && !isLapsed(derived.stage) && derived.stage !== "prospect";
  const reason = !comingBack ? derived.reason : lastPurchaseAt && derived.since.getTime() === lastPurchaseAt.getTime() ? "reactivated" : "signal-expired";
  return { from: current?.stage ?? null, to: derived.stage, reason, at: derived.since };
}
