import { z } from "zod";

/** A customer id (the CloudEvents `subject`, the Kafka key). */
export const CustomerId = z.string().min(1).max(128);

// At most 10 integer digits (under ten billion) and 4 decimals: the amount itself fits its
// numeric(18, 4) column; what is derived from it (the amount in the base currency, at a rate of
// at most FX_RATE_MAX, and the per-customer sums) is stored as unconstrained numeric.
const DECIMAL = /^\d{1,10}(\.\d{1,4})?$/;
/** The largest amount accepted. */
export const AMOUNT_MAX = 9_999_999_999.9999;
const AMOUNT_RULE = "must be a decimal number below 10,000,000,000 with at most 4 decimals";

/**
 * A money amount ≥ 0: a decimal string (`"19.99"`) or a JSON number. Normalised to a decimal
 * string so that sums happen in Postgres `numeric`, never in binary floating point.
 */
export const Amount = z
  .union([z.string().regex(DECIMAL, AMOUNT_RULE), z.number().min(0).max(AMOUNT_MAX)])
  .transform((v, ctx) => {
    const s = typeof v === "number" ? String(v) : v;
    if (!DECIMAL.test(s)) {
      ctx.addIssue({ code: "custom", message: "must be a decimal number below 10,000,000,000 with at most 4 decimals" });
      return z.NEVER;
    }
    return s;
  })
  .describe("decimal string or number ≥ 0 and below 10,000,000,000, at most 4 decimals");

const ISO_4217 = new Set(Intl.supportedValuesOf("currency"));

/** An ISO 4217 currency code, e.g. `USD`. */
export const Currency = z
  .string()
  .regex(/^[A-Z]{3}$/, "must be an ISO 4217 code of three capital letters")
  .refine((c) => ISO_4217.has(c), "is not an ISO 4217 currency");

/** An IANA time zone the runtime knows, e.g. `Europe/Berlin` or `UTC`. */
export const TimeZone = z
  .string()
  .min(1)
  .max(64)
  .refine((tz) => {
    try {
      new Intl.DateTimeFormat("en-US", { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  }, "an IANA time zone, e.g. Europe/Berlin");

/**
 * A BCP 47 language tag the runtime accepts, e.g. `de`, `de-AT` or `pt-BR`: follow-up templates
 * are chosen by it (`de-AT`, then `de`, then the default locale).
 */
export const Locale = z
  .string()
  .min(2)
  .max(35)
  .refine((tag) => {
    try {
      return Intl.getCanonicalLocales(tag).length === 1;
    } catch {
      return false;
    }
  }, "a BCP 47 language tag, e.g. de or de-AT");

/** A calendar date, YYYY-MM-DD, from 1900 on (a birthday). */
export const CalendarDate = z.iso.date().refine((d) => d >= "1900-01-01", "must be 1900-01-01 or later");

export const TicketId = z.string().min(1).max(128);
export const OrderId = z.string().min(1).max(128);
