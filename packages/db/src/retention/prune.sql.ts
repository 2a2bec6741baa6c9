import type { Queryable } from "../pool.js";

// What retention deletes row by row (the event payloads go by whole partitions instead). Each is a
// condition on the table's rows, with bind parameters; rows go in batches of PRUNE_BATCH, each
// its own transaction, so a large backlog neither holds locks long nor bloats one transaction.

/** Event ids recorded before $1: outside the dedupe window. */
export const EXPIRED_EVENT_IDS = { table: "event_ids", where: "recorded_at < $1" } as const;

/**
 * Outbox rows published before $1 that nothing needs any more: stage changes and merge
 * announcements are in Kafka, follow-ups have an outcome or expired by $2 (one published without
 * an outcome is what the worker re-adds after Redis lost its queues, so it stays). Rows the relay
 * gave up on stay for operators until $3, like job outcomes.
 */
export const SPENT_OUTBOX_ROWS = {
  table: "outbox",
  where: `(published_at < $1
           AND (kind <> 'follow-up'
                OR EXISTS (SELECT 1 FROM job_outcomes j WHERE j.job_id = outbox.dedupe_key)
                OR (payload->>'expiresAt')::timestamptz <= $2))
          OR failed_at < $3`,
} as const;

/** Job outcomes finished before $1. */
export const OLD_JOB_OUTCOMES = { table: "job_outcomes", where: "finished_at < $1" } as const;

export const PRUNE_BATCH = 10_000;

/** Deletes the rows of `table` matching `where`, PRUNE_BATCH at a time; resolves with how many went. */
export async function pruneRows(db: Queryable, { table, where }: { table: string; where: string }, params: readonly unknown[]): Promise<number> {
  let removed = 0;
  for (;;) {
    const r = await db.query(`DELETE FROM ${table} WHERE ctid = ANY(ARRAY(SELECT ctid FROM ${table} WHERE ${where} LIMIT ${PRUNE_BATCH}))`, [...params]);
    removed += r.rowCount ?? 0;
    if ((r.rowCount ?? 0) < PRUNE_BATCH) return removed;
  }
}
