import { z } from "zod";
import { CloudEventEnvelope, RFC3339_WITH_OFFSET } from "../cloud-event.js";
import { CustomerMergedOut } from "./customer-merged.js";
import { StageChanged } from "./stage-changed.js";

/**
 * What CRMs receive on `lifecycle-stage-changed` when a customer's personal data was erased here
 * (DELETE /v1/customers/:id/personal-data): erase your copy too. It carries nothing personal, only
 * the customer id (the subject) and when; every erasure call publishes one (CONTRACT.md section 4).
 */
export const CustomerErasedData = z.object({
  /** When the erasure was recorded (wall time). */
  erasedAt: z.string().regex(RFC3339_WITH_OFFSET),
});
export const CustomerErased = CloudEventEnvelope.extend({ type: z.literal("lifecycle.customer.erased"), data: CustomerErasedData });
export type CustomerErased = z.infer<typeof CustomerErased>;

/** Every event the service publishes on `lifecycle-stage-changed`, told apart by `type`. */
export const StageTopicEvent = z.discriminatedUnion("type", [StageChanged, CustomerErased, CustomerMergedOut]);
export type StageTopicEvent = z.infer<typeof StageTopicEvent>;
