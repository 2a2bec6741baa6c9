import fc from "fast-check";
import { arbitraryCustomerId, arbitraryEventTime, arbitraryTypedData, validEvent } from "@lifecycle/events/arbitraries";

/** A history of distinct events (unique ids) for a few customers (see the events' arbitraries for why the domains are small). */
export const arbitraryHistory = fc
  .array(fc.tuple(arbitraryCustomerId, arbitraryEventTime, arbitraryTypedData), { minLength: 8, maxLength: 60, size: "max" })
  .map((rows) => rows.map(([subject, t, d], i) => validEvent(`e${i}`, subject, t, d)));
