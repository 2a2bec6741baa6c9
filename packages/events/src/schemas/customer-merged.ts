import { z } from "zod";
import { CloudEventEnvelope, RFC3339_WITH_OFFSET } from "../cloud-event.js";
import { CustomerId } from "./common.js";

/**
 * What CRMs receive on `lifecycle-stage-changed` when customers were merged here (by a
 * `customer.identified` or `customer.merged` event): the subject is the survivor; the merged ids'
 * records move to it, and every id in `ids` now points to it.
 */
export const CustomerMergedOutData = z.object({
  /** Ids whose recorded history moved to the survivor in this merge. */
  mergedIds: z.array(CustomerId).min(1),
  /** Every id that now resolves to the survivor (the merged ones included). */
  ids: z.array(CustomerId),
  /** The identity event that caused it (CloudEvents id). */
  causationId: z.string().min(1).max(128),
  /** When the merge was recorded (wall time). */
  mergedAt: z.string().regex(RFC3339_WITH_OFFSET),
});
export const CustomerMergedOut = CloudEventEnvelope.extend({ type: z.literal("lifecycle.customer.merged"), data: CustomerMergedOutData });
export type CustomerMergedOut = z.infer<typeof CustomerMergedOut>;
