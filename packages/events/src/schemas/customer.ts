import { z } from "zod";
import { Amount, CalendarDate, CustomerId, Locale, TimeZone } from "./common.js";

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
  /** The customer's IANA time zone, e.g. `Europe/Berlin`: quiet hours and birthdays follow it. */
  timezone: TimeZone.optional(),
  /** The customer's language as a BCP 47 tag, e.g. `de-AT`: follow-ups are written in it where a template exists. */
  locale: Locale.optional(),
});

/** Channels a customer gives or withdraws consent for: e-mail, and messages our webhook hands to your own systems. */
export const CONSENT_CHANNELS = ["email", "webhook"] as const;
export const ConsentChannel = z.enum(CONSENT_CHANNELS);

/**
 * A customer's consent on one channel changed. `granted` / `withdrawn`: marketing consent (a
 * preference centre, a sign-up form, a one-click unsubscribe). `suppressed`: the address must get
 * nothing at all, transactional messages included (a hard bounce, a spam complaint); a later
 * `granted` lifts it. The latest event (by time, then id) wins, whatever order they arrive in.
 */
export const CustomerConsentUpdatedData = z
  .strictObject({
    channel: ConsentChannel,
    status: z.enum(["granted", "withdrawn", "suppressed"]),
    /** Where it came from, e.g. `preference-centre`, `one-click-unsubscribe`, `hard-bounce`, `complaint`, `import`. */
    source: z.string().min(1).max(64),
  })
  .refine((d) => d.status !== "suppressed" || d.source === "hard-bounce" || d.source === "complaint", {
    message: "a suppression's source is hard-bounce or complaint",
    path: ["source"],
  });

export const CustomerCancelledData = z.strictObject({
  /** Why, e.g. `subscription-ended`: an explicit churn. */
  reason: z.string().min(1).max(256).optional(),
});
