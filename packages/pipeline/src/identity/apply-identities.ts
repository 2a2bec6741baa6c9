import { createHash } from "node:crypto";
import type { IdentityRepo, Queryable, StoredIdentityLink } from "@lifecycle/db";
import { canonicalIds } from "@lifecycle/domain";
import { CustomerMergedOut, type LifecycleEvent, type OutboxMessage } from "@lifecycle/events";

/** A merge this transaction made: records of `mergedIds` moved to `survivorId`. */
export interface MergeDone {
  survivorId: string;
  mergedIds: string[];
  /** Every id that now resolves to the survivor. */
  ids: string[];
  /** The identity event of the batch that caused it. */
  causedBy: LifecycleEvent;
}

/**
 * Most ids one customer may have. A person has a handful; a set that grows past this is almost
 * always one shared id (a shop's own address used for guest orders, `email:null`) joining
 * strangers, and since a merge cannot be undone the identity event that would do it is refused.
 */
export const MAX_IDS_PER_CUSTOMER = 100;

/**
 * Refused input, as Postgres would refuse it: SQLSTATE 54000 (program limit exceeded) is a data
 * error to the ingest, which isolates the event that causes it and dead-letters it with this message.
 */
export class IdentitySetTooLarge extends Error {
  readonly code = "54000";
  constructor(canonicalId: string, size: number) {
    super(`identity set of ${canonicalId} would hold ${size} ids, more than ${MAX_IDS_PER_CUSTOMER}: a shared id would join unrelated customers`);
  }
}

function refuseOversizedSets(canonical: ReadonlyMap<string, string>): void {
  const sizes = new Map<string, number>();
  for (const c of canonical.values()) sizes.set(c, (sizes.get(c) ?? 0) + 1);
  for (const [c, size] of sizes) if (size > MAX_IDS_PER_CUSTOMER) throw new IdentitySetTooLarge(c, size);
}

/** The links an identity event states; other events state none. */
export function linksOf(e: LifecycleEvent): StoredIdentityLink[] {
  if (e.type === "customer.identified") return e.data.ids.map((linkedId) => ({ eventId: e.id, kind: "identified", anchorId: e.subject, linkedId, time: e.time }));
  if (e.type === "customer.merged") return e.data.mergedIds.map((linkedId) => ({ eventId: e.id, kind: "merged", anchorId: e.subject, linkedId, time: e.time }));
  return [];
}

/**
 * Applies the identity events among a batch's new events, in its transaction: records their links,
 * re-chooses the canonical id of every set of ids they touch (canonicalIds: the same whatever order
 * the links came in), points the other ids at it, and moves the records of ids that stop being
 * canonical to their new canonical id. Graph writers run one at a time (a transaction advisory
 * lock); the records moved are locked in id order first, and a batch that resolved an id before
 * this commits finds out after it locked the record (see `applyEvents`) and starts over.
 */
export async function applyIdentityEvents(tx: Queryable, identity: IdentityRepo, events: readonly LifecycleEvent[]): Promise<MergeDone[]> {
  const links = events.flatMap(linksOf).filter((l) => l.anchorId !== l.linkedId);
  if (links.length === 0) return [];
  await identity.lockGraph(tx);
  await identity.recordLinks(links, tx);
  const mentioned = [...new Set(links.flatMap((l) => [l.anchorId, l.linkedId]))];
  const canonical = canonicalIds(await identity.linksAround(mentioned, tx));
  refuseOversizedSets(canonical);
  const before = await identity.resolve([...canonical.keys()], tx);
  const changed = [...canonical].filter(([id, c]) => (before.get(id) ?? id) !== c).map(([id, canonicalId]) => ({ id, canonicalId }));
  if (changed.length === 0) return [];

  // Ids that stop being canonical: their records (if any) move to the new canonical id.
  const moving = changed.filter((a) => a.id !== a.canonicalId);
  const recorded = await identity.lockRecords([...moving.flatMap((a) => [a.id, a.canonicalId])], tx);
  await identity.assign(changed, tx);
  const bySurvivor = new Map<string, string[]>();
  for (const a of [...moving].sort((x, y) => (x.id < y.id ? -1 : 1))) {
    if (!recorded.has(a.id)) continue;
    await identity.merge(a.id, a.canonicalId, tx);
    bySurvivor.set(a.canonicalId, [...(bySurvivor.get(a.canonicalId) ?? []), a.id]);
  }
  return [...bySurvivor].map(([survivorId, mergedIds]) => {
    const ids = [...canonical].filter(([id, c]) => c === survivorId && id !== survivorId).map(([id]) => id).sort();
    const component = new Set([survivorId, ...ids]);
    // The batch's first identity event (by id) that linked into this customer: a stable cause.
    const causedBy = events.filter((e) => linksOf(e).some((l) => component.has(l.anchorId))).sort((a, b) => (a.id < b.id ? -1 : 1))[0] ?? events[0];
    if (!causedBy) throw new Error("a merge without an identity event");
    return { survivorId, mergedIds, ids, causedBy };
  });
}

/** The `lifecycle.customer.merged` message of a merge: its id is stable, so a re-derived one is a duplicate. */
export function mergedMessage(m: MergeDone, mergedAt: Date): OutboxMessage {
  const digest = createHash("sha256").update(`${m.causedBy.id}\u0000${m.survivorId}`).digest("hex").slice(0, 32);
  const id = `customer-merged-${digest}`;
  const payload = CustomerMergedOut.parse({
    specversion: "1.0",
    id,
    source: "customer-lifecycle",
    type: "lifecycle.customer.merged",
    subject: m.survivorId,
    time: m.causedBy.time,
    data: { mergedIds: m.mergedIds, ids: m.ids, causationId: m.causedBy.id, mergedAt: mergedAt.toISOString() },
  });
  return { kind: "customer-merged", dedupeKey: id, payload };
}
