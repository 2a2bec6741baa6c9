import { z } from "zod";
import { CloudEventEnvelope, RFC3339_WITH_OFFSET } from "../cloud-event.js";

/** The lifecycle stages, in their usual order (CONTRACT.md section 2). */
export const LIFECYCLE_STAGES = ["prospect", "new", "repeat", "at-risk", "churned"] as const;
export const Stage = z.enum(LIFECYCLE_STAGES);
export type Stage = z.infer<typeof Stage>;

/** What CRMs receive on `lifecycle-stage-changed` (CONTRACT.md section 4). */
export const StageChangedData = z.object({
  /** The stage before; null for a customer's first stage. */
  from: Stage.nullable(),
  to: Stage,
  /** Why, machine-readable: e.g. `first-purchase`, `inactive-90d`, `detractor-score`, `reactivated`. */
  reason: z.string().min(1).max(64),
  /** Event time of the transition (not when it was computed). */
  at: z.string().regex(RFC3339_WITH_OFFSET),
  /** Customer value when the stage changed; amounts in the base currency as decimal strings. */
  clv: z.object({
    historical: z.string(),
    predicted: z.string().nullable(),
    pAlive: z.number().min(0).max(1).nullable(),
    expectedPurchases: z.number().min(0).nullable(),
  }),
});

export const StageChanged = CloudEventEnvelope.extend({ type: z.literal("lifecycle.stage.changed"), data: StageChangedData });
export type StageChanged = z.infer<typeof StageChanged>;
