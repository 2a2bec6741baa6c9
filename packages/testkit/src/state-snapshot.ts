import type { Queryable } from "@lifecycle/db";

/**
 * Everything the ingest derives for the customers whose ids start with `prefix`, with that prefix
 * removed and bookkeeping columns (updated_at, recorded_at) left out: two runs of the same events
 * under different prefixes must give equal snapshots.
 */
export async function stateSnapshot(db: Queryable, prefix: string): Promise<Record<string, unknown[]>> {
  const strip = (v: unknown) => (typeof v === "string" ? v.replace(prefix, "") : v);
  const tables: Record<string, string> = {
    customers: "SELECT * FROM customers WHERE customer_id LIKE $1 ORDER BY customer_id",
    orders: "SELECT * FROM orders WHERE customer_id LIKE $1 ORDER BY customer_id, order_id",
    refunds: "SELECT * FROM refunds WHERE customer_id LIKE $1 ORDER BY event_id",
    tickets: "SELECT * FROM tickets WHERE customer_id LIKE $1 ORDER BY customer_id, ticket_id",
    survey_responses: "SELECT * FROM survey_responses WHERE customer_id LIKE $1 ORDER BY event_id",
    // Which follow-ups exist is order-independent; which event caused each is not (it is the
    // first one the service saw), so only the keys are compared.
    outbox: "SELECT kind, dedupe_key FROM outbox WHERE payload->>'customerId' LIKE $1 ORDER BY dedupe_key",
  };
  const snapshot: Record<string, unknown[]> = {};
  for (const [name, sql] of Object.entries(tables)) {
    const { rows } = await db.query<Record<string, unknown>>(sql, [`${prefix}%`]);
    snapshot[name] = rows.map((row) =>
      Object.fromEntries(Object.entries(row).filter(([k]) => k !== "updated_at").map(([k, v]) => [k, strip(v)])),
    );
  }
  return snapshot;
}
