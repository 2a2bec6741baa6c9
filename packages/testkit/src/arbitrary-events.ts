import fc from "fast-check";
import { arbitraryCustomerId, arbitraryEventTime, arbitraryTypedData, validEvent } from "@lifecycle/events/arbitraries";

/** A history of distinct events (unique ids) for a few customers (see the events' arbitraries for why the domains are small). */
export const arbitraryHistory = fc
  .array(fc.tuple(arbitraryCustomerId, arbitraryEventTime, arbitraryTypedData), { minLength: 8, maxLength: 60, size: "max" })
  .map((rows) => rows.map(([subject, t, d], i) => validEvent(`e${i}`, subject, t, d)));

// Identity: three customers and two external ids (a guest's e-mail, a helpdesk contact) that
// events are also sent under, joined by identify and merge events in any order.
const identityCustomer = fc.constantFrom("c1", "c2", "c3");
const externalId = fc.constantFrom("x:a", "x:b");
const arbitrarySubject = fc.oneof({ weight: 3, arbitrary: identityCustomer }, { weight: 1, arbitrary: externalId });
const identityEvent = fc.oneof(
  fc.record({ type: fc.constant("customer.identified" as const), subject: identityCustomer, data: fc.uniqueArray(externalId, { minLength: 1, maxLength: 2 }).map((ids) => ({ ids })) }),
  fc.tuple(identityCustomer, identityCustomer).filter(([a, b]) => a !== b).map(([subject, merged]) => ({ type: "customer.merged" as const, subject, data: { mergedIds: [merged] } })),
);

/**
 * A history like `arbitraryHistory` whose events are also sent under external ids, with up to
 * four identify and merge events joining ids into customers.
 */
export const arbitraryIdentityHistory = fc
  .tuple(
    fc.array(fc.tuple(arbitrarySubject, arbitraryEventTime, arbitraryTypedData), { minLength: 8, maxLength: 50, size: "max" }),
    fc.array(fc.tuple(arbitraryEventTime, identityEvent), { minLength: 1, maxLength: 4 }),
  )
  .map(([rows, identities]) => [
    ...rows.map(([subject, t, d], i) => validEvent(`e${i}`, subject, t, d)),
    ...identities.map(([t, { type, subject, data }], i) => validEvent(`i${i}`, subject, t, { type, data })),
  ]);
