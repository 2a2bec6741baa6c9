import { z } from "zod";
import type { Queryable } from "@lifecycle/db";
import { Stage, type LifecycleEventType } from "@lifecycle/events";
import { encodeCursor, type TimelineItem } from "./customers.schemas.js";
import { SELECT_TIMELINE } from "./customers.sql.js";

type Summary = Record<string, string | number | boolean>;

/**
 * The fields of each event type's data that the timeline shows: none is personal. Left out:
 * a registration's e-mail, name, birthday and referrer, a survey's comment (free text), a
 * purchase's items and referral code (only counted or flagged).
 */
const SHOWN: Record<LifecycleEventType, readonly string[]> = {
  "customer.registered": ["acquisitionChannel", "acquisitionCost"],
  "customer.cancelled": ["reason"],
  "customer.consent.updated": ["channel", "status", "source"],
  // The linked ids are personal (an e-mail address): only their count is shown (idCount, mergedCount).
  "customer.identified": [],
  "customer.merged": ["reason"],
  "purchase.completed": ["orderId", "amount", "currency", "channel"],
  "purchase.refunded": ["orderId", "amount", "currency"],
  "ticket.opened": ["ticketId", "channel", "priority"],
  "ticket.responded": ["ticketId", "by"],
  "ticket.resolved": ["ticketId", "contacts"],
  "ticket.reopened": ["ticketId"],
  "survey.responded": ["kind", "score", "surveyId", "orderId", "ticketId"],
};
const isEventType = (t: string): t is LifecycleEventType => Object.hasOwn(SHOWN, t);

const StoredData = z.record(z.string(), z.unknown()).catch({});

/** An event's data without personal data: the type's shown fields, plus flags for what was left out. */
export function summariseEventData(type: string, data: unknown): Summary {
  const fields = StoredData.parse(data);
  const out: Summary = {};
  for (const key of isEventType(type) ? SHOWN[type] : []) {
    const v = fields[key];
    if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") out[key] = v;
  }
  if (type === "customer.registered") out.referred = typeof fields.referredBy === "string";
  if (type === "purchase.completed") {
    out.itemCount = Array.isArray(fields.items) ? fields.items.length : 0;
    out.referred = typeof fields.referralCode === "string";
  }
  if (type === "survey.responded") out.hasComment = typeof fields.comment === "string" && fields.comment.length > 0;
  if (type === "customer.identified") out.idCount = Array.isArray(fields.ids) ? fields.ids.length : 0;
  if (type === "customer.merged") out.mergedCount = Array.isArray(fields.mergedIds) ? fields.mergedIds.length : 0;
  return out;
}

const TimelineRow = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("stage-change"), at: z.string(), rank: z.literal(1), key: z.string(), id: z.string(), from_stage: Stage.nullable(), to_stage: Stage, reason: z.string(), recorded_at: z.string() }),
  z.object({ kind: z.literal("event"), at: z.string(), rank: z.literal(0), key: z.string(), id: z.string(), type: z.string(), data: z.unknown() }),
]);
type TimelineRow = z.infer<typeof TimelineRow>;

function toItem(row: TimelineRow): TimelineItem {
  switch (row.kind) {
    case "stage-change":
      return { kind: "stage-change", id: `stage-changed-${row.id}`, from: row.from_stage, to: row.to_stage, reason: row.reason, at: row.at, recordedAt: row.recorded_at };
    case "event":
      return { kind: "event", id: row.id, type: row.type, time: row.at, data: summariseEventData(row.type, row.data) };
  }
}

/** Before every item: the first page. */
const NEWEST: [string, number, string] = ["infinity", 0, ""];

/** One page of a customer's timeline, newest first, before `position` (exclusive). */
export async function timelinePage(db: Queryable, { customerId, before = NEWEST, limit }: { customerId: string; before?: [string, number, string] | undefined; limit: number }) {
  const result = await db.query(SELECT_TIMELINE, [customerId, before[0], before[1], before[2], limit + 1]);
  const rows = z.array(TimelineRow).parse(result.rows);
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    items: page.map(toItem),
    nextCursor: rows.length > limit && last ? encodeCursor([last.at, last.rank, last.key]) : null,
  };
}
