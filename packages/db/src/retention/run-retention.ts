import type pg from "pg";
import type { Pool, Queryable } from "../pool.js";
import { sqlStateOf } from "../sql-state.js";
import { inTransaction, withClient } from "../transaction.js";
import { archivePartition } from "./archive-partition.js";
import { detachedMonths, detachPartition, ensureMonthPartition, monthPartitions, monthStart, monthsInDefault, PARTITIONED_TABLES, quoteIdent, tableExists } from "./partitions.js";
import { EXPIRED_EVENT_IDS, OLD_JOB_OUTCOMES, pruneRows, SPENT_OUTBOX_ROWS } from "./prune.sql.js";

/** How long each kind of data is kept (README "Retention" says what shortening each one costs). */
export interface RetentionSettings {
  /** Event payloads (inbox_events) by event time, in whole months: a month goes once all of it is older. */
  payloadDays: number;
  /** Event ids (event_ids) by the time they were recorded: a re-sent event is recognised this long. Infinity: never deleted. */
  dedupeDays: number;
  /** Published outbox rows by publish time. */
  outboxHours: number;
  /** Job outcomes (and outbox rows the relay gave up on) by the time they finished. */
  outcomeDays: number;
  /** Where a month of payloads is archived (JSON lines, gzip) before it is dropped; none: not archived. */
  archiveDir?: string;
  /** How long making or detaching a partition waits for the table's writers before it is left to the next run. @defaultValue 10000 */
  lockTimeoutMs?: number;
  /** Monthly partitions made ahead of the current month. @defaultValue 2 */
  monthsAhead?: number;
}

export interface DroppedMonth {
  partition: string;
  events: number;
  /** The archive it was written to first. */
  file?: string;
}

export interface RetentionResult {
  /** False when another run held the lock: this one did nothing. */
  ran: boolean;
  partitionsCreated: string[];
  /**
   * Partitions not made or detached this run: the table's writers held it past the lock timeout (a
   * long transaction, a backfill into the default partition); the next run tries them again.
   */
  partitionsDeferred: string[];
  payloadMonthsDropped: DroppedMonth[];
  eventIds: number;
  outboxRows: number;
  jobOutcomes: number;
}

const DAY_MS = 86_400_000;
const RETENTION_LOCK = "hashtext('lifecycle:retention')";
/** SQLSTATE of a lock wait that reached lock_timeout. */
const LOCK_NOT_AVAILABLE = "55P03";
// Making and detaching partitions waits for the batches writing to the table, and the ingest's
// next batches queue behind it: never for long. What timed out is done by the next run.
const LOCK_TIMEOUT_MS = 10_000;

/**
 * One retention pass: makes the monthly partitions (the months ahead, and those of rows that fell
 * into a default partition), drops the months of event payloads older than `payloadDays` before
 * `eventNow` (archived first when `archiveDir` is set), and deletes event ids, spent outbox rows
 * and job outcomes past their windows before `wallNow`. Stage history is partitioned, never dropped.
 * `eventNow` is the engine clock (the watermark when replaying history): undefined drops no payloads.
 * One run at a time across replicas (a session advisory lock; a second caller returns at once).
 */
export async function runRetention(pool: Pool, settings: RetentionSettings, { eventNow, wallNow }: { eventNow: Date | undefined; wallNow: Date }): Promise<RetentionResult> {
  return withClient(pool, async (db) => {
    const locked = await db.query<{ ok: boolean }>(`SELECT pg_try_advisory_lock(${RETENTION_LOCK}) AS ok`);
    if (!locked.rows[0]?.ok) return { ran: false, partitionsCreated: [], partitionsDeferred: [], payloadMonthsDropped: [], eventIds: 0, outboxRows: 0, jobOutcomes: 0 };
    try {
      await db.query(`SET lock_timeout = ${Math.max(1, Math.round(settings.lockTimeoutMs ?? LOCK_TIMEOUT_MS))}`);
      const { created: partitionsCreated, deferred: partitionsDeferred } = await makePartitions(db, [wallNow, ...(eventNow ? [eventNow] : [])], settings.monthsAhead ?? 2);
      const payloadMonthsDropped = eventNow ? await dropPayloadMonths(db, new Date(eventNow.getTime() - settings.payloadDays * DAY_MS), settings.archiveDir, wallNow, partitionsDeferred) : [];
      const eventIds = Number.isFinite(settings.dedupeDays) ? await pruneRows(db, EXPIRED_EVENT_IDS, [new Date(wallNow.getTime() - settings.dedupeDays * DAY_MS)]) : 0;
      const outcomesBefore = new Date(wallNow.getTime() - settings.outcomeDays * DAY_MS);
      const outboxRows = await pruneRows(db, SPENT_OUTBOX_ROWS, [new Date(wallNow.getTime() - settings.outboxHours * 3_600_000), wallNow, outcomesBefore]);
      const jobOutcomes = await pruneRows(db, OLD_JOB_OUTCOMES, [outcomesBefore]);
      const result = { ran: true, partitionsCreated, partitionsDeferred, payloadMonthsDropped, eventIds, outboxRows, jobOutcomes };
      const { ran: _ran, ...removed } = result;
      await db.query("INSERT INTO retention_runs (started_at, removed) VALUES ($1, $2)", [wallNow, JSON.stringify(removed)]);
      return result;
    } finally {
      // After a lost connection these fail too; the session's end then released the lock.
      await db.query(`RESET lock_timeout; SELECT pg_advisory_unlock(${RETENTION_LOCK})`).catch(() => undefined);
    }
  });
}

/**
 * The partitions of the months around `nows` and ahead of them, and of every month found in a
 * default partition. When making one waits past the lock timeout (the default partition's writers,
 * a backfill, held it), it and the table's months after it are deferred to the next run (each wait
 * holds the writers back), and the rest of this run goes on: until then those rows stay in the
 * default partition, where they are read and kept as any others.
 */
async function makePartitions(db: Queryable, nows: readonly Date[], monthsAhead: number): Promise<{ created: string[]; deferred: string[] }> {
  const made: { created: string[]; deferred: string[] } = { created: [], deferred: [] };
  const ahead = nows.flatMap((now) => Array.from({ length: monthsAhead + 1 }, (_, i) => monthStart(now, i)));
  for (const table of PARTITIONED_TABLES) {
    let timedOut = false;
    for (const month of [...(await monthsInDefault(db, table)), ...ahead]) {
      const name = `${table}_m${month.toISOString().slice(0, 7).replace("-", "_")}`;
      if (timedOut) {
        if (!(await tableExists(db, name))) made.deferred.push(name);
        continue;
      }
      try {
        if (await ensureMonthPartition(db, table, month)) made.created.push(name);
      } catch (err) {
        if (sqlStateOf(err) !== LOCK_NOT_AVAILABLE) throw err;
        timedOut = true;
        made.deferred.push(name);
      }
    }
  }
  return made;
}

/**
 * Detaches every inbox month that ended by `before`, then archives (when `archiveDir` is set) and
 * drops each detached month, those an earlier run left detached included (its archive or drop
 * failed: nothing was lost, the table is still there). When detaching waits past the lock timeout
 * (a long transaction writing to the inbox), that month and the later ones are added to `deferred`
 * for the next run.
 */
async function dropPayloadMonths(db: pg.PoolClient, before: Date, archiveDir: string | undefined, wallNow: Date, deferred: string[]): Promise<DroppedMonth[]> {
  const due = (await monthPartitions(db, "inbox_events")).filter((partition) => partition.to.getTime() <= before.getTime());
  for (const [i, partition] of due.entries()) {
    try {
      await detachPartition(db, "inbox_events", partition);
    } catch (err) {
      if (sqlStateOf(err) !== LOCK_NOT_AVAILABLE) throw err;
      deferred.push(...due.slice(i).map((p) => p.name));
      break;
    }
  }
  const stamp = wallNow.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  const dropped: DroppedMonth[] = [];
  for (const month of await detachedMonths(db, "inbox_events")) {
    dropped.push(
      await inTransaction(db, async (tx) => {
        const archived = archiveDir ? await archivePartition(tx, { partition: month.name, dir: archiveDir, stamp }) : undefined;
        const events = archived?.events ?? (await tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${quoteIdent(month.name)}`)).rows[0]?.n ?? 0;
        await tx.query(`DROP TABLE ${quoteIdent(month.name)}`);
        return { partition: month.name, events, ...(archived ? { file: archived.file } : {}) };
      }),
    );
  }
  return dropped;
}
