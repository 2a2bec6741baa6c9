import type { Queryable } from "../pool.js";

/** The tables kept in monthly partitions by event time (migration 0017). */
export const PARTITIONED_TABLES = ["inbox_events", "stage_transitions"] as const;
export type PartitionedTable = (typeof PARTITIONED_TABLES)[number];

/** One month's partition: rows with from <= event_time < to. */
export interface MonthPartition {
  name: string;
  from: Date;
  to: Date;
}

/** The first instant of the UTC month of `t`, moved by `months`. */
export function monthStart(t: Date, months = 0): Date {
  return new Date(Date.UTC(t.getUTCFullYear(), t.getUTCMonth() + months, 1));
}

/** Creates the partition of the month of `month` unless it exists (moving its rows out of the default partition). */
export async function ensureMonthPartition(db: Queryable, table: PartitionedTable, month: Date): Promise<boolean> {
  const r = await db.query<{ created: boolean }>("SELECT lifecycle_month_partition($1, $2) AS created", [table, month]);
  return r.rows[0]?.created ?? false;
}

/** Whether a table (a month's partition, say) named `name` exists. */
export async function tableExists(db: Queryable, name: string): Promise<boolean> {
  const r = await db.query<{ found: boolean }>("SELECT to_regclass($1) IS NOT NULL AS found", [quoteIdent(name)]);
  return r.rows[0]?.found ?? false;
}

/** The monthly partitions of `table`, oldest first: those named <table>_mYYYY_MM by lifecycle_month_partition. */
export async function monthPartitions(db: Queryable, table: PartitionedTable): Promise<MonthPartition[]> {
  const r = await db.query<{ name: string }>(
    "SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = $1::regclass",
    [table],
  );
  return r.rows.map(({ name }) => monthOf(name)).filter((p) => p !== undefined).sort((a, b) => a.from.getTime() - b.from.getTime());
}

/** The month a table named <table>_mYYYY_MM holds; undefined for other names (the default partition). */
function monthOf(name: string): MonthPartition | undefined {
  const m = /_m(\d{4})_(\d{2})$/.exec(name);
  if (!m?.[1] || !m[2]) return undefined;
  const from = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, 1));
  return { name, from, to: monthStart(from, 1) };
}

/** The months (their first instants) of the rows in `table`'s default partition. */
export async function monthsInDefault(db: Queryable, table: PartitionedTable): Promise<Date[]> {
  const r = await db.query<{ month: Date }>(
    `SELECT DISTINCT date_trunc('month', event_time AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS month FROM ${table}_default ORDER BY 1`,
  );
  return r.rows.map((row) => row.month);
}

/**
 * Detaches one month from `table`: its rows leave the table at once (in a short transaction of its
 * own, as detaching waits for the batches writing to the table), and an event of that month that
 * arrives later goes to the default partition. The detached table is archived and dropped after.
 */
export async function detachPartition(db: Queryable, table: PartitionedTable, partition: MonthPartition): Promise<void> {
  await db.query(`ALTER TABLE ${table} DETACH PARTITION ${quoteIdent(partition.name)}`);
}

/** Month tables of `table` detached and not dropped yet (a run that failed after detaching leaves them). */
export async function detachedMonths(db: Queryable, table: PartitionedTable): Promise<MonthPartition[]> {
  const r = await db.query<{ name: string }>(
    "SELECT relname AS name FROM pg_class WHERE relname ~ ('^' || $1 || '_m[0-9]{4}_[0-9]{2}$') AND relkind = 'r' AND NOT relispartition",
    [table],
  );
  return r.rows.map(({ name }) => monthOf(name)).filter((p) => p !== undefined).sort((a, b) => a.from.getTime() - b.from.getTime());
}

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
