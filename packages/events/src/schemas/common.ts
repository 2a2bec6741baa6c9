import { z } from "zod";

/** A customer id (the CloudEvents `subject`, the Kafka key). */
export const CustomerId = z.string().min(1).max(128);

const DECIMAL = /^\d{1,13}(\.\d{1,4})?$/;

/**
 * A money amount ≥ 0: a decimal string (`"19.99"`) or a JSON number. Normalised to a decimal
 * string so that sums happen in Postgres `numeric`, never in binary floating point.
 */
export const Amount = z
  .union([z.string().regex(DECIMAL, "must be a decimal number with at most 4 decimals"), z.number().min(0).max(1e13)])
  .transform((v, ctx) => {
    const s = typeof v === "number" ? String(v) : v;
    if (!DECIMAL.test(s)) {
      ctx.addIssue({ code: "custom", message: "must be a decimal number with at most 4 decimals" });
      return z.NEVER;
    }
    return s;
  })
  .describe("decimal string or number ≥ 0, at most 4 decimals");

const ISO_4217 = new Set(Intl.supportedValuesOf("currency"));

/** An ISO 4217 currency code, e.g. `USD`. */
export const Currency = z
  .string()
  .regex(/^[A-Z]{3}$/, "must be an ISO 4217 code of three capital letters")
  .refine((c) => ISO_4217.has(c), "is not an ISO 4217 currency");

/** A calendar date, YYYY-MM-DD. */
export const CalendarDate = z.iso.date();

export const TicketId = z.string().min(1).max(128);
export const OrderId = z.string().min(1).max(128);
