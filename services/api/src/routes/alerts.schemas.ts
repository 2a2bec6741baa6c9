// Schemas shared by the alerts, metrics and events routes: the problem answer, money and
// timestamps as they appear in responses. Responses go through zod (fastify-type-provider-zod's
// serializer), so these are also what the OpenAPI document shows.
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

/** An instant as an RFC 3339 UTC timestamp. */
export const Instant = z.iso.datetime();

export const DAY_MS = 86_400_000;
