import { z } from "zod";
import { CloudEventEnvelope } from "../cloud-event.js";
import { CustomerCancelledData, CustomerConsentUpdatedData, CustomerRegisteredData } from "./customer.js";
import { CustomerIdentifiedData, CustomerMergedData } from "./identity.js";
import { PurchaseCompletedData, PurchaseRefundedData } from "./purchase.js";
import { SurveyRespondedData } from "./survey.js";
import { TicketOpenedData, TicketReopenedData, TicketRespondedData, TicketResolvedData } from "./ticket.js";

// Field schemas other packages validate with too (index.ts re-exports this module whole).
export { Locale } from "./common.js";

/** A CloudEvent of one type: the shared envelope with that type's `data` schema. */
const event = <T extends string, D extends z.ZodType>(type: T, data: D) =>
  // The envelope stays open: CloudEvents extension attributes (e.g. `traceparent`) are allowed.
  CloudEventEnvelope.extend({ type: z.literal(type), data });

export const CustomerRegistered = event("customer.registered", CustomerRegisteredData);
export type CustomerRegistered = z.infer<typeof CustomerRegistered>;
export const CustomerCancelled = event("customer.cancelled", CustomerCancelledData);
export type CustomerCancelled = z.infer<typeof CustomerCancelled>;
export const CustomerConsentUpdated = event("customer.consent.updated", CustomerConsentUpdatedData);
export type CustomerConsentUpdated = z.infer<typeof CustomerConsentUpdated>;
export const CustomerIdentified = event("customer.identified", CustomerIdentifiedData);
export type CustomerIdentified = z.infer<typeof CustomerIdentified>;
export const CustomerMerged = event("customer.merged", CustomerMergedData).refine((e) => !e.data.mergedIds.includes(e.subject), {
  message: "a customer cannot be merged into itself",
  path: ["data", "mergedIds"],
});
export type CustomerMerged = z.infer<typeof CustomerMerged>;
export const PurchaseCompleted = event("purchase.completed", PurchaseCompletedData);
export type PurchaseCompleted = z.infer<typeof PurchaseCompleted>;
export const PurchaseRefunded = event("purchase.refunded", PurchaseRefundedData);
export type PurchaseRefunded = z.infer<typeof PurchaseRefunded>;
export const TicketOpened = event("ticket.opened", TicketOpenedData);
export type TicketOpened = z.infer<typeof TicketOpened>;
export const TicketResponded = event("ticket.responded", TicketRespondedData);
export type TicketResponded = z.infer<typeof TicketResponded>;
export const TicketResolved = event("ticket.resolved", TicketResolvedData);
export type TicketResolved = z.infer<typeof TicketResolved>;
export const TicketReopened = event("ticket.reopened", TicketReopenedData);
export type TicketReopened = z.infer<typeof TicketReopened>;
export const SurveyResponded = event("survey.responded", SurveyRespondedData);
export type SurveyResponded = z.infer<typeof SurveyResponded>;

/** Each input topic's events, discriminated by `type`. */
export const CustomerTopicEvent = z.discriminatedUnion("type", [CustomerRegistered, CustomerCancelled, CustomerConsentUpdated, CustomerIdentified, CustomerMerged]);
export const PurchaseTopicEvent = z.discriminatedUnion("type", [PurchaseCompleted, PurchaseRefunded]);
export const SupportTicketTopicEvent = z.discriminatedUnion("type", [TicketOpened, TicketResponded, TicketResolved, TicketReopened]);
export const SurveyTopicEvent = z.discriminatedUnion("type", [SurveyResponded]);

/** Every event the service accepts. The type decides, not the topic it arrived on. */
export const LifecycleEvent = z.discriminatedUnion("type", [
  CustomerRegistered,
  CustomerCancelled,
  CustomerConsentUpdated,
  CustomerIdentified,
  CustomerMerged,
  PurchaseCompleted,
  PurchaseRefunded,
  TicketOpened,
  TicketResponded,
  TicketResolved,
  TicketReopened,
  SurveyResponded,
]);
export type LifecycleEvent = z.infer<typeof LifecycleEvent>;
export type LifecycleEventType = LifecycleEvent["type"];

export const EVENT_TYPES = LifecycleEvent.options.map((o) => o.shape.type.value);
