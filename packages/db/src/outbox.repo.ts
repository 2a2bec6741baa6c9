import type { Queryable } from "./pool.js";

export interface OutboxMessage {
  kind: string;
  /** Same key, same message: adding it again is a no-op. */
  dedupeKey: string;
  payload: unknown;
}

export interface OutboxRow extends OutboxMessage {
  id: number;
  attempts: number;
}

/** The transactional outbox: rows written with the state they announce, published by a relay. */
export function createOutboxRepo(db: Queryable) {
  return {
    async add(messages: readonly OutboxMessage[], tx: Queryable = db): Promise<number> {
      if (messages.length === 0) return 0;
      const result = await tx.query(
        `INSERT INTO outbox (kind, dedupe_key, payload)
         SELECT kind, dedupe_key, payload FROM jsonb_to_recordset($1::jsonb) AS m(kind text, dedupe_key text, payload jsonb)
         ON CONFLICT (dedupe_key) DO NOTHING`,
        [JSON.stringify(messages.map((m) => ({ kind: m.kind, dedupe_key: m.dedupeKey, payload: m.payload })))],
      );
      return result.rowCount ?? 0;
    },

    /**
     * Locks up to `limit` unpublished rows for this transaction. SKIP LOCKED lets several relays
     * run side by side, each taking different rows.
     */
    async claim(limit: number, tx: Queryable): Promise<OutboxRow[]> {
      const result = await tx.query<{ id: number; kind: string; dedupe_key: string; payload: unknown; attempts: number }>(
        `SELECT id, kind, dedupe_key, payload, attempts FROM outbox
          WHERE published_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [limit],
      );
      return result.rows.map((r) => ({ id: r.id, kind: r.kind, dedupeKey: r.dedupe_key, payload: r.payload, attempts: r.attempts }));
    },

    async markPublished(ids: readonly number[], tx: Queryable): Promise<void> {
      if (ids.length) await tx.query("UPDATE outbox SET published_at = now(), attempts = attempts + 1 WHERE id = ANY($1::bigint[])", [ids]);
    },

    async markFailed(id: number, error: string, tx: Queryable): Promise<void> {
      await tx.query("UPDATE outbox SET attempts = attempts + 1, last_error = $2 WHERE id = $1", [id, error.slice(0, 2000)]);
    },

    async countUnpublished(tx: Queryable = db): Promise<number> {
      const r = await tx.query<{ n: number }>("SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL");
      return r.rows[0]?.n ?? 0;
    },
  };
}
export type OutboxRepo = ReturnType<typeof createOutboxRepo>;
