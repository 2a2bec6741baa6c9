import { z } from "zod";
import { CustomerId } from "./common.js";

/**
 * An external id, written `namespace:value` (`email:ann@example.com`, `account:42`,
 * `helpdesk:9921`): the exact string other systems send as the `subject` of their events for that
 * person. The namespace keeps one system's `42` apart from another's.
 */
export const ExternalId = CustomerId.regex(/^[a-z][a-z0-9_-]{0,31}:\S/, "must be namespace:value, e.g. email:ann@example.com or account:42");

/** Most ids one identity event may link: a person has a handful, not thousands. */
export const MAX_LINKED_IDS = 50;

const distinct = (ids: readonly string[]) => new Set(ids).size === ids.length;

/**
 * The customer (the subject) is also known by these ids: events under any of them are this
 * customer's from now on, and what was recorded under them already moves here (Segment's
 * `identify`, RudderStack's ID stitching).
 */
export const CustomerIdentifiedData = z.strictObject({
  ids: z.array(ExternalId).min(1).max(MAX_LINKED_IDS).refine(distinct, "ids must be distinct"),
});

/**
 * Merge these customers into the subject (the survivor): their history, value and follow-ups move
 * to it, and their ids answer with a pointer to it (Customer.io's merge).
 */
export const CustomerMergedData = z.strictObject({
  mergedIds: z.array(CustomerId).min(1).max(MAX_LINKED_IDS).refine(distinct, "mergedIds must be distinct"),
  /** Why, for the audit trail, e.g. `duplicate-profile`. */
  reason: z.string().min(1).max(256).optional(),
});
