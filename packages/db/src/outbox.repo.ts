import type { Queryable } from "./pool.js";

/** A message as the outbox stores it; `@lifecycle/events` `OutboxMessage` is its typed form. */
export interface OutboxRecord {
  kind: string;
  /** Same key, same message: adding it again is a no-op. */
  dedupeKey: string;
  payload: unknown;
  /** When a follow-up may run: the relay moves it to the queue only when it is nearly due. */
  dueAt?: string | Date;
}

export interface OutboxRow {
  id: number;
  kind: string;
  dedupeKey: string;
  payload: unknown;
  attempts: number;
  dueAt: Date | null;
}

interface OutboxDbRow {
  id: number;
  kind: string;
  dedupe_key: string;
  payload: unknown;
  attempts: number;
  due_at: Date | null;
}
const toRow = (r: OutboxDbRow): OutboxRow => ({ id: r.id, kind: r.kind, dedupeKey: r.dedupe_key, payload: r.payload, attempts: r.attempts, dueAt: r.due_at });

const PENDING = "published_at IS NULL AND failed_at IS NULL";
const COLUMNS = "id, kind, dedupe_key, payload, attempts, due_at";

/** The transactional outbox: rows written with the state they announce, published by a relay. */
export function createOutboxRepo(db: Queryable) {
  return {
    async add(messages: readonly OutboxRecord[], tx: Queryable = db): Promise<number> {
      if (messages.length === 0) return 0;
      const result = await tx.query(
        `INSERT INTO outbox (kind, dedupe_key, payload, due_at)
         SELECT kind, dedupe_key, payload, due_at FROM jsonb_to_recordset($1::jsonb) AS m(kind text, dedupe_key text, payload jsonb, due_at timestamptz)
         ON CONFLICT (dedupe_key) DO NOTHING`,
        [JSON.stringify(messages.map((m) => ({ kind: m.kind, dedupe_key: m.dedupeKey, payload: m.payload, due_at: m.dueAt ?? null })))],
      );
      return result.rowCount ?? 0;
    },

    /**
     * Locks up to `limit` rows to publish now: stage changes in the order they were written, and
     * follow-ups due before `dueBefore` (earliest first). Later follow-ups stay here, not in Redis.
     * SKIP LOCKED lets several relays run side by side, each taking different rows.
     */
    async claim({ limit, dueBefore }: { limit: number; dueBefore: Date }, tx: Queryable): Promise<OutboxRow[]> {
      const stageChanges = await tx.query<OutboxDbRow>(
        `SELECT ${COLUMNS} FROM outbox WHERE ${PENDING} AND due_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [limit],
      );
      const room = limit - stageChanges.rows.length;
      const followUps = room
        ? await tx.query<OutboxDbRow>(
            `SELECT ${COLUMNS} FROM outbox WHERE ${PENDING} AND due_at IS NOT NULL AND due_at < $2
              ORDER BY due_at, id LIMIT $1 FOR UPDATE SKIP LOCKED`,
            [room, dueBefore],
          )
        : { rows: [] };
      return [...stageChanges.rows, ...followUps.rows].map(toRow);
    },

    async markPublished(ids: readonly number[], tx: Queryable): Promise<void> {
      if (ids.length) await tx.query("UPDATE outbox SET published_at = now(), attempts = attempts + 1 WHERE id = ANY($1::bigint[])", [ids]);
    },

    /**
     * Records a failed attempt with its error. `giveUp` marks the row failed for good: it is never
     * claimed again, so it cannot hold up the rows behind it (the error stays for an operator).
     */
    async markFailed(failures: readonly { id: number; error: string; giveUp: boolean }[], tx: Queryable): Promise<void> {
      if (failures.length === 0) return;
      await tx.query(
        `UPDATE outbox o SET attempts = o.attempts + 1, last_error = f.error, failed_at = CASE WHEN f.give_up THEN now() END
           FROM jsonb_to_recordset($1::jsonb) AS f(id bigint, error text, give_up boolean) WHERE o.id = f.id`,
        [JSON.stringify(failures.map((f) => ({ id: f.id, error: f.error.slice(0, 2000), give_up: f.giveUp })))],
      );
    },

    /**
     * After Redis lost its data: every follow-up published to BullMQ that has no outcome yet and has
     * not expired by `now` goes back to pending, so the relay adds it again under its same job id
     * (a job that survived makes that add a no-op; one with an outcome is not touched). Returns how
     * many. One reconciliation at a time (an advisory lock in the caller's transaction).
     */
    async requeueUnfinishedFollowUps(now: Date, tx: Queryable): Promise<number> {
      await tx.query("SELECT pg_advisory_xact_lock(hashtext('lifecycle:reconcile-follow-ups'))");
      const r = await tx.query(
        `UPDATE outbox o SET published_at = NULL, due_at = coalesce(o.due_at, (o.payload->>'dueAt')::timestamptz)
          WHERE o.kind = 'follow-up' AND o.published_at IS NOT NULL AND o.failed_at IS NULL
            AND (o.payload->>'expiresAt')::timestamptz > $1
            AND NOT EXISTS (SELECT 1 FROM job_outcomes j WHERE j.job_id = o.dedupe_key)`,
        [now],
      );
      return r.rowCount ?? 0;
    },

    /** Rows a relay would publish by `dueBefore`: what is left to drain. */
    async countDue(dueBefore: Date, tx: Queryable = db): Promise<number> {
      const r = await tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM outbox WHERE ${PENDING} AND (due_at IS NULL OR due_at < $1)`, [dueBefore]);
      return r.rows[0]?.n ?? 0;
    },
  };
}
export type OutboxRepo = ReturnType<typeof createOutboxRepo>;
