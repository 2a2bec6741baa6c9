/**
 * SQL for an ON CONFLICT merge that keeps, for a group of columns, the version from the event
 * that wins by a fixed rule: `later` keeps the greatest (time, id), `earlier` the smallest.
 * A NULL id on the incoming side means "no event of that kind in this batch": keep the row.
 */
export function preferColumns({
  table,
  time,
  id,
  rule,
  columns,
  incoming = "EXCLUDED",
}: {
  table: string;
  time: string;
  id: string;
  rule: "later" | "earlier";
  columns: string[];
  /** The competing row: `EXCLUDED` in ON CONFLICT, or another table's alias in an UPDATE … FROM (a merge). */
  incoming?: string;
}): string {
  const op = rule === "later" ? ">" : "<";
  const wins = `(${incoming}.${id} IS NOT NULL AND (${table}.${id} IS NULL OR (${incoming}.${time}, ${incoming}.${id}) ${op} (${table}.${time}, ${table}.${id})))`;
  return [time, id, ...columns].map((c) => `${c} = CASE WHEN ${wins} THEN ${incoming}.${c} ELSE ${table}.${c} END`).join(",\n    ");
}
