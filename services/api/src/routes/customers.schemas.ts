import { z } from "zod";
import { Instant } from "../http/schemas.js";
import { Stage } from "@lifecycle/events";

/** Text Postgres can store: anything but NUL (a query with one fails, so it must be a 400). */
const pgText = (s: string) => !s.includes("\u0000");

/** A customer id: free text, as the events' `subject`. */
export const CustomerId = z.string().min(1).max(128).refine(pgText, "must not contain NUL characters");

// The customer routes' request and response schemas: they validate every request, shape every
// response and are the OpenAPI document (/docs). Response schemas carry no transforms: the
// serializer encodes through them.

/**
 * An ISO 8601 instant with a time zone as Postgres writes and reads it exactly: UTC, six
 * fractional digits (`2025-01-31T12:00:00.123456Z`). JS `Date` keeps only milliseconds, so
 * instants that must round-trip (cursors, `updatedAt`) are carried as this text, never as a Date.
 */
const CANONICAL_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const ISO_INSTANT = z.iso.datetime({ offset: true });
const PARTS = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/;

/**
 * The canonical UTC form of an ISO 8601 date-time with a zone, or undefined when it is not one
 * Postgres accepts (a 30 February, year 0, …). Fractions beyond microseconds are truncated.
 */
export function canonicalInstant(text: string): string | undefined {
  const m = ISO_INSTANT.safeParse(text).success ? PARTS.exec(text) : null;
  if (!m?.[1] || !m[3]) return undefined;
  const ms = Date.parse(`${m[1]}${m[3]}`);
  if (!Number.isFinite(ms)) return undefined;
  const utc = new Date(ms).toISOString();
  // Years 1–9999 only: Postgres refuses year 0, and later ones need no cursor.
  if (!/^\d{4}-/.test(utc) || utc.startsWith("0000")) return undefined;
  return `${utc.slice(0, 19)}.${(m[2] ?? "").padEnd(6, "0").slice(0, 6)}Z`;
}

const INSTANT_MESSAGE = "must be an ISO 8601 date-time with a time zone, e.g. 2025-01-31T12:00:00Z";
/** A request's date-time: any ISO 8601 zone, normalised to the canonical UTC text. */
const InstantParam = z.string().transform((s, ctx) => {
  const canonical = canonicalInstant(s);
  if (canonical === undefined) ctx.addIssue({ code: "custom", message: INSTANT_MESSAGE });
  return canonical ?? z.NEVER;
});

/** Opaque cursors: base64url of a JSON array. Anything else is a 400, never a database error. */
function cursorParam<T>(tuple: z.ZodType<T>, what: string) {
  return z
    .string()
    .min(1)
    .max(1_024)
    .transform((s, ctx) => {
      const decoded = decodeCursor(s, tuple);
      if (decoded === undefined) ctx.addIssue({ code: "custom", message: `is not a ${what} cursor this API returned` });
      return decoded ?? z.NEVER;
    });
}

function decodeCursor<T>(s: string, tuple: z.ZodType<T>): T | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(s)) return undefined;
  try {
    const parsed = tuple.safeParse(JSON.parse(Buffer.from(s, "base64url").toString("utf8")));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export const encodeCursor = (parts: readonly (string | number)[]): string => Buffer.from(JSON.stringify(parts)).toString("base64url");

// A cursor's instant must be exactly what we wrote: canonical, and a real date (not 2025-13-45).
const CanonicalInstant = z.string().refine((s) => CANONICAL_INSTANT.test(s) && canonicalInstant(s) === s);

/** The list's position: the last row's exact `updated_at` and id. */
export const ListPosition = z.tuple([CanonicalInstant, CustomerId]);
export type ListPosition = z.infer<typeof ListPosition>;
/** The timeline's position: the last item's time, kind rank (1 stage change, 0 event) and key. */
export const TimelinePosition = z.tuple([CanonicalInstant, z.union([z.literal(0), z.literal(1)]), z.string().min(1).max(160).refine(pgText)]);
export type TimelinePosition = z.infer<typeof TimelinePosition>;

export const CustomerParams = z.strictObject({
  id: CustomerId.describe("The customer id (the events' `subject`), 1–128 characters; percent-encode it in the path"),
});

export const ListQuery = z.strictObject({
  stage: Stage.optional().describe("Only customers in this stage now"),
  updatedSince: InstantParam.optional().describe("Only customers with `updatedAt` at or after this instant (inclusive), e.g. the last `updatedAt` of the previous sync"),
  cursor: cursorParam(ListPosition, "customer list").optional().describe("`nextCursor` of the previous page; keep the same `stage` and `updatedSince`"),
  limit: z.coerce.number().int().min(1).max(500).default(100).describe("Page size, 1–500"),
});

/**
 * `before`: a timeline cursor, or an instant. An instant becomes the position just before every
 * item at that time (rank -1 sorts below both kinds), so only strictly earlier items follow.
 */
const BeforeParam = z
  .string()
  .max(1_024)
  .transform((s, ctx): [string, number, string] => {
    const instant = canonicalInstant(s);
    if (instant !== undefined) return [instant, -1, ""];
    const position = decodeCursor(s, TimelinePosition);
    if (position !== undefined) return position;
    ctx.addIssue({ code: "custom", message: `is neither a timeline cursor this API returned nor an ISO 8601 date-time with a time zone` });
    return z.NEVER;
  });

export const TimelineQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50).describe("Page size, 1–200"),
  before: BeforeParam.optional().describe("`nextCursor` of the previous page, or an ISO 8601 instant: only items strictly before it"),
});

const Money = z.string().describe('Decimal string in the base currency, as stored (4 decimals), e.g. "19.9900"');
const Score = z.object({ score: z.number().int(), at: Instant }).nullable();

export const HealthPart = z.object({
  value: z.number().describe("0 (bad) … 1 (good)"),
  weight: z.number(),
  basis: z.string().describe("What the value was computed from"),
});

export const Customer = z.object({
  id: z.string(),
  stage: Stage.nullable().describe("Null only before the first evaluation"),
  stageReason: z.string().nullable().describe("Why the customer entered the stage, e.g. `first-purchase`, `inactive-90d`"),
  stageSince: Instant.nullable(),
  clv: z.object({
    historical: Money.describe("(Purchases − refunds) × CLV_MARGIN, to the cent: the value the stage-changed event carries"),
    predicted: Money.nullable().describe("BG/NBD × Gamma-Gamma over the horizon, discounted; null before a model is fitted"),
    pAlive: z.number().nullable(),
    expectedPurchases: z.number().nullable().describe("Over the configured horizon"),
    expectedSpend: Money.nullable().describe("Per purchase (Gamma-Gamma)"),
    simple: Money.nullable().describe("Average order value × purchases a year × lifespanYears"),
    profit: Money.nullable().describe("Simple CLV × CLV_MARGIN − acquisition cost"),
    lifespanYears: z.number().nullable().describe("The lifespan the simple and profit CLV used; null without a purchase"),
    lifespanSource: z
      .enum(["churn", "setting"])
      .nullable()
      .describe("`churn`: 1 ÷ the base's measured annual churn rate (a year of history or more); `setting`: CLV_LIFESPAN_YEARS"),
    clvCacRatio: z.number().nullable(),
  }),
  purchaseCount: z.number().int(),
  firstPurchaseAt: Instant.nullable(),
  lastPurchaseAt: Instant.nullable(),
  revenue: Money.describe("Before refunds"),
  refunded: Money,
  latest: z.object({ nps: Score, csat: Score, ces: Score }).describe("The latest answer to each survey kind, null if never answered"),
  health: z.object({
    score: z.number().int().nullable().describe("0–100; null before the first evaluation"),
    components: z.record(z.string(), HealthPart).describe("recency, frequency, monetary, sentiment (when any survey was answered), support"),
  }),
  openTickets: z.number().int(),
  acquisitionChannel: z.string().nullable(),
  registeredAt: Instant.nullable(),
  updatedAt: Instant.describe("When the stage or the facts last changed; exact to the microsecond (usable as `updatedSince`)"),
});
export type Customer = z.infer<typeof Customer>;

/** One customer as GET /v1/customers/:id shows it: the list's fields and the ids that resolve to it. */
export const CustomerDetail = Customer.extend({
  aliases: z
    .array(z.string())
    .describe("The other ids this customer is known by (merged customers, linked external ids such as `email:…`), sorted: their requests answer 308 here"),
});
export type CustomerDetail = z.infer<typeof CustomerDetail>;

/** What an id that was merged into another customer answers, with a 308 to it. */
export const MergedCustomer = z.object({
  id: z.string().describe("The id asked for"),
  mergedInto: z.string().describe("The customer it resolves to now; `Location` points there"),
  mergedAt: Instant.describe("When it was pointed there"),
});
export type MergedCustomer = z.infer<typeof MergedCustomer>;

export const CustomerPage = z.object({
  items: z.array(Customer),
  nextCursor: z.string().nullable().describe("Pass as `cursor` for the next page; null when this page reached the end"),
});

const SummaryValue = z.union([z.string(), z.number(), z.boolean()]);
export const TimelineItem = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("stage-change"),
    id: z.string().describe("The id of its `lifecycle.stage.changed` CloudEvent"),
    from: Stage.nullable(),
    to: Stage,
    reason: z.string(),
    at: Instant.describe("Event time of the change"),
    recordedAt: Instant,
  }),
  z.object({
    kind: z.literal("event"),
    id: z.string().describe("The CloudEvents id"),
    type: z.string(),
    time: Instant,
    data: z.record(z.string(), SummaryValue).describe("A summary of the event's data without personal data (no e-mail, name, birthday, referrer or comment)"),
  }),
]);
export type TimelineItem = z.infer<typeof TimelineItem>;

export const TimelinePage = z.object({
  items: z.array(TimelineItem).describe("Newest first; a stage change before the event that caused it"),
  nextCursor: z.string().nullable().describe("Pass as `before` for the next page; null at the customer's first item"),
});

export const ErasureResult = z.object({
  customerId: z.string().describe("Kept: it is the CRM's key. Called with an id merged into another customer, the customer it resolves to"),
  erasedAt: Instant,
  erased: z
    .object({
      customers: z.number().int().describe("Profile rows whose e-mail, name, birthday, referrer or cancel reason were cleared (0 or 1)"),
      inboxEvents: z
        .number()
        .int()
        .describe("Stored events whose personal fields or free text were removed (registrations, survey comments, cancel reasons, referral codes, the ids and reasons of identify and merge events)"),
      aliasEvents: z.number().int().describe("Stored events sent under one of the customer's other ids that now carry the customer's id as their subject"),
      aliases: z.number().int().describe("Other ids that resolved to the customer (merged customers, external ids such as `email:…`) and no longer do"),
      aliasJobIds: z
        .number()
        .int()
        .describe("Follow-ups queued under one of the customer's other ids before a merge, whose job ids (in the outbox, job outcomes and claims) named that id and now hold a random placeholder in its place"),
      identityLinks: z.number().int().describe("Links between the customer's ids that identify and merge events had stated, removed"),
      mergeMessages: z
        .number()
        .int()
        .describe("`lifecycle.customer.merged` messages in the outbox whose ids were replaced by `erased`, or that were given up before being published"),
      surveyResponses: z.number().int().describe("Survey answers whose comment was cleared"),
      orders: z.number().int().describe("Orders whose referral code was replaced by `erased` (that the order came by referral stays, for the referral rate)"),
      followUps: z.number().int().describe("Follow-up messages in the outbox whose birthday was removed or that were given up before running"),
      queuedJobs: z.number().int().describe("Follow-up jobs removed from the BullMQ queues (waiting, delayed, completed, failed)"),
      runningJobs: z.number().int().describe("Follow-up jobs running as the erasure came: their payload was scrubbed in place (a locked job cannot be removed), and the worker skips sending for an erased customer"),
    })
    .describe("Rows changed in each place by this call; all 0 when a previous call erased everything already"),
});
export type ErasureResult = z.infer<typeof ErasureResult>;
