import type { Queryable } from "@lifecycle/db";

/** What Postgres holds of the CDNOW replay: purchases, customers, and the dollar total in cents. */
export async function cdnowTotalsInPostgres(db: Queryable): Promise<{ rows: number; customers: number; cents: bigint }> {
  const r = await db.query<{ rows: number; customers: number; cents: string }>(
    `SELECT count(*)::int AS rows, count(DISTINCT customer_id)::int AS customers, (coalesce(sum(amount), 0) * 100)::bigint::text AS cents
       FROM orders WHERE event_id LIKE 'cdnow-%'`,
  );
  const row = r.rows[0];
  return { rows: row?.rows ?? 0, customers: row?.customers ?? 0, cents: BigInt(row?.cents ?? "0") };
}
