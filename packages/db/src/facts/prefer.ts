/**
 * SQL for an ON CONFLICT merge that keeps, for a group of columns, the version from the event
 * that wins by a fixed rule: `later` keeps the greatest (time, id), `earlier` the smallest.
 * A NULL id on the incoming side means "no event of that kind in this batch": keep the row.
 */
export function preferColumns({ table, time, id, rule, columns }: { table: string; time: string; id: string; rule: "later" | "earlier"; columns: string[] }): string {
  const op = rule === "later" ? ">" : "<";
  const wins = `(EXCLUDED.${id} IS NOT NULL AND (${table}.${id} IS NULL OR (EXCLUDED.${time}, EXCLUDED.${id}) ${op} (${table}.${time}, ${table}.${id})))`;
  return [time, id, ...columns].map((c) => `${c} = CASE WHEN ${wins} THEN EXCLUDED.${c} ELSE ${table}.${c} END`).join(",\n    ");
}
