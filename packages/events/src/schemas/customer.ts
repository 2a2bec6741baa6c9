import { z } from "zod";
import { Amount, CalendarDate, CustomerId } from "./common.js";

export const CustomerRegisteredData = z.strictObject({
  email: z.email().max(320).optional(),
  name: z.string().min(1).max(256).optional(),
  /** Where the customer came from, e.g. `paid-search`; the measures can be grouped by it. */
  acquisitionChannel: z.string().min(1).max(64).optional(),
  /** What acquiring this customer cost (for CLV:CAC), in the base currency. */
  acquisitionCost: Amount.optional(),
  /** The customer who referred this one. */
  referredBy: CustomerId.optional(),
  birthday: CalendarDate.optional(),
});

export const CustomerCancelledData = z.strictObject({
  /** Why, e.g. `subscription-ended`: an explicit churn. */
  reason: z.string().min(1).max(256).optional(),
});
