// The HTTP schemas every route shares: the problem answer and the error answers of keyed routes,
// money, and instants as responses give them and as parameters take them. Responses go through
// zod (fastify-type-provider-zod's serializer), so these are also what the OpenAPI document shows.
import { z } from "zod";

/** RFC 9457 problem details, as `installProblemHandlers` and the auth hook answer them. */
export const ProblemResponse = z
  .looseObject({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    instance: z.string().optional(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional().describe("For 400s: each invalid field with what is wrong"),
  })
  .describe("RFC 9457 problem details (application/problem+json)");

/** The error answers every keyed route can give. */
export const KEYED_ERRORS = {
  400: ProblemResponse.describe("Invalid parameters: `errors` lists each one"),
  401: ProblemResponse.describe("No API key, or an unknown or revoked one"),
  403: ProblemResponse.describe("The API key lacks the route's scope"),
  429: ProblemResponse.describe("Rate limit exceeded"),
} as const;

/** A base-currency amount as a decimal string to the cent, e.g. "1234.50" (never a float). */
export const Money = z.string().regex(/^-?\d+\.\d{2}$/).describe("Amount in the base currency, decimal string to the cent");

/** An instant in a response: an RFC 3339 UTC timestamp (`Date.toISOString()`). */
export const Instant = z.iso.datetime();

/**
 * An instant as a parameter: RFC 3339 with any offset, in the years 1000–9999. Postgres has no
 * year 0 and a period's default start lies days before its end: without a floor, `to=0000-01-01`
 * reached the database as a year it refuses (a 500; found by the GET fuzz test).
 */
export const InstantParam = z.iso
  .datetime({ offset: true, error: "must be an ISO 8601 date-time with an offset, e.g. 2025-01-31T00:00:00Z" })
  .refine((s) => {
    const year = new Date(s).getUTCFullYear();
    return year >= 1000 && year <= 9999;
  }, "must be in the years 1000 to 9999");

export const DAY_MS = 86_400_000;
