import type { Queryable } from "../pool.js";
import { MERGE_CUSTOMER_STATEMENTS } from "./merge-customer.sql.js";

/** An edge of the identity graph as stored (see @lifecycle/domain `IdentityLink`). */
export interface StoredIdentityLink {
  eventId: string;
  kind: "identified" | "merged";
  anchorId: string;
  linkedId: string;
  time: string | Date;
}

/** An id and the canonical id it resolves to. */
export interface CanonicalAssignment {
  id: string;
  canonicalId: string;
}

// One identity-graph writer at a time, across replicas: the graph a transaction reads to choose the
// canonical ids is then the graph it writes to (held until commit).
const GRAPH_LOCK = "SELECT pg_advisory_xact_lock(hashtext('lifecycle:identity-graph'))";

/**
 * The ids of every connected set that contains one of $1, walked over the links in both
 * directions, and the links among them. UNION (not UNION ALL) stops the walk at ids already seen.
 */
const LINKS_AROUND = `
WITH RECURSIVE ids(id) AS (
  SELECT unnest($1::text[])
  UNION
  SELECT CASE WHEN l.anchor_id = ids.id THEN l.linked_id ELSE l.anchor_id END
    FROM ids JOIN identity_links l ON l.anchor_id = ids.id OR l.linked_id = ids.id
)
SELECT l.event_id, l.kind, l.anchor_id, l.linked_id, l.event_time
  FROM identity_links l WHERE l.anchor_id IN (SELECT id FROM ids)`;

/**
 * Locks the customer records of $1, in id order like every ingest batch. An id without a record
 * gets a placeholder row, deleted again at once by the caller: the insert waits for a concurrent
 * batch that is creating that record, so what it commits is moved too and never left behind.
 */
const LOCK_RECORDS = `
INSERT INTO customers (customer_id, first_seen_at, last_event_at)
SELECT id, 'infinity', 'infinity' FROM unnest($1::text[]) AS id ORDER BY id
ON CONFLICT (customer_id) DO UPDATE SET updated_at = customers.updated_at
RETURNING customer_id, (xmax = 0) AS placeholder`;

/** The identity graph and the aliases it gives: who is who, and moving records onto one id. */
export function createIdentityRepo(db: Queryable) {
  return {
    /** Makes this transaction the only identity-graph writer until it ends. */
    async lockGraph(tx: Queryable = db): Promise<void> {
      await tx.query(GRAPH_LOCK);
    },

    async recordLinks(links: readonly StoredIdentityLink[], tx: Queryable = db): Promise<void> {
      if (links.length === 0) return;
      await tx.query(
        `INSERT INTO identity_links (event_id, kind, anchor_id, linked_id, event_time)
         SELECT event_id, kind, anchor_id, linked_id, event_time
           FROM jsonb_to_recordset($1::jsonb) AS l(event_id text, kind text, anchor_id text, linked_id text, event_time timestamptz)
         ON CONFLICT DO NOTHING`,
        [JSON.stringify(links.map((l) => ({ event_id: l.eventId, kind: l.kind, anchor_id: l.anchorId, linked_id: l.linkedId, event_time: l.time })))],
      );
    },

    /** Every link of the connected sets around `ids`. */
    async linksAround(ids: readonly string[], tx: Queryable = db): Promise<StoredIdentityLink[]> {
      const r = await tx.query<{ event_id: string; kind: "identified" | "merged"; anchor_id: string; linked_id: string; event_time: Date }>(LINKS_AROUND, [ids]);
      return r.rows.map((l) => ({ eventId: l.event_id, kind: l.kind, anchorId: l.anchor_id, linkedId: l.linked_id, time: l.event_time }));
    },

    /** The canonical id of each of `ids` that is an alias; ids that are not are left out. */
    async resolve(ids: readonly string[], tx: Queryable = db): Promise<Map<string, string>> {
      if (ids.length === 0) return new Map();
      const r = await tx.query<{ alias_id: string; customer_id: string }>("SELECT alias_id, customer_id FROM customer_aliases WHERE alias_id = ANY($1::text[])", [ids]);
      return new Map(r.rows.map((a) => [a.alias_id, a.customer_id]));
    },

    /** Every id that resolves to `customerId`, itself excluded. */
    async aliasesOf(customerId: string, tx: Queryable = db): Promise<string[]> {
      const r = await tx.query<{ alias_id: string }>("SELECT alias_id FROM customer_aliases WHERE customer_id = $1 ORDER BY alias_id", [customerId]);
      return r.rows.map((a) => a.alias_id);
    },

    /** Points each id at its canonical id (a canonical id has no alias row). */
    async assign(assignments: readonly CanonicalAssignment[], tx: Queryable = db): Promise<void> {
      const canonical = assignments.filter((a) => a.id === a.canonicalId).map((a) => a.id);
      const aliases = assignments.filter((a) => a.id !== a.canonicalId);
      if (canonical.length) await tx.query("DELETE FROM customer_aliases WHERE alias_id = ANY($1::text[])", [canonical]);
      if (aliases.length)
        await tx.query(
          `INSERT INTO customer_aliases (alias_id, customer_id)
           SELECT alias_id, customer_id FROM jsonb_to_recordset($1::jsonb) AS a(alias_id text, customer_id text) ORDER BY alias_id
           ON CONFLICT (alias_id) DO UPDATE SET customer_id = EXCLUDED.customer_id, merged_at = now()`,
          [JSON.stringify(aliases.map((a) => ({ alias_id: a.id, customer_id: a.canonicalId })))],
        );
    },

    /** Locks the customer records of `ids` (see LOCK_RECORDS); resolves with the ids that have one. */
    async lockRecords(ids: readonly string[], tx: Queryable = db): Promise<Set<string>> {
      if (ids.length === 0) return new Set();
      const r = await tx.query<{ customer_id: string; placeholder: boolean }>(LOCK_RECORDS, [[...new Set(ids)]]);
      const placeholders = r.rows.filter((row) => row.placeholder).map((row) => row.customer_id);
      if (placeholders.length) await tx.query("DELETE FROM customers WHERE customer_id = ANY($1::text[])", [placeholders]);
      return new Set(r.rows.filter((row) => !row.placeholder).map((row) => row.customer_id));
    },

    /** Moves everything recorded under `from` to `into` and removes `from`'s record (MERGE_CUSTOMER_STATEMENTS). */
    async merge(from: string, into: string, tx: Queryable = db): Promise<void> {
      for (const sql of MERGE_CUSTOMER_STATEMENTS) await tx.query(sql, sql.includes("$2") ? [from, into] : [from]);
    },
  };
}
export type IdentityRepo = ReturnType<typeof createIdentityRepo>;
