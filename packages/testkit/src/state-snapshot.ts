import type { Queryable } from "@lifecycle/db";

// Columns the engine derives with the clock: equal across runs only when both ran at the same "now".
const CLOCK_DERIVED = [
  "stage", "stage_review_at", "p_alive", "p_alive_below_at", "expected_purchases", "expected_spend", "predicted_clv",
  "simple_clv", "profit_clv", "clv_cac_ratio", "clv_model_id", "health_score", "health_components", "evaluated_at",
];
// Columns that record the path taken (which transition came last): they depend on arrival order
// by design, like the stage history itself.
const HISTORY = ["updated_at", "stage_reason", "stage_since"];

/**
 * Everything the ingest derives for the customers whose ids start with `prefix`, with that prefix
 * removed and bookkeeping columns left out: two runs of the same events under different prefixes
 * must give equal snapshots. With `derived`, the clock-derived columns (stage, predictions,
 * health) are compared too: for runs evaluated at the same fixed clock.
 */
export async function stateSnapshot(db: Queryable, prefix: string, { derived = false }: { derived?: boolean } = {}): Promise<Record<string, unknown[]>> {
  const skip = new Set([...HISTORY, ...(derived ? [] : CLOCK_DERIVED)]);
  const strip = (v: unknown) => (typeof v === "string" ? v.replaceAll(prefix, "") : v);
  const tables: Record<string, string> = {
    customers: "SELECT * FROM customers WHERE customer_id LIKE $1 ORDER BY customer_id",
    orders: "SELECT * FROM orders WHERE customer_id LIKE $1 ORDER BY customer_id, order_id",
    refunds: "SELECT * FROM refunds WHERE customer_id LIKE $1 ORDER BY event_id",
    tickets: "SELECT * FROM tickets WHERE customer_id LIKE $1 ORDER BY customer_id, ticket_id",
    survey_responses: "SELECT * FROM survey_responses WHERE customer_id LIKE $1 ORDER BY event_id",
    customer_consents: "SELECT customer_id, channel, status, source, event_time, event_id FROM customer_consents WHERE customer_id LIKE $1 ORDER BY customer_id, channel",
    // Which event-triggered follow-ups exist is order-independent; which event caused each is not
    // (it is the first one the service saw), so only (customer, playbook, trigger) is compared,
    // under the customer the follow-up's id resolves to now: a follow-up queued for a merged id
    // before its merge is the survivor's (and one queued for both ids is one, as the worker sends
    // it once). Follow-ups triggered by stage changes (win-backs, cross-sells) follow the observed
    // stage history, like it.
    outbox: `SELECT DISTINCT o.kind, COALESCE(a.customer_id, o.payload->>'customerId') AS customer_id, o.payload->>'playbook' AS playbook, o.payload->>'trigger' AS trigger
               FROM outbox o LEFT JOIN customer_aliases a ON a.alias_id = o.payload->>'customerId'
              WHERE o.payload->>'customerId' LIKE $1
                AND o.payload->>'playbook' NOT IN ('win-back-at-risk', 'win-back-churned', 'cross-sell') ORDER BY 2, 3, 4`,
    // Which ids point where.
    customer_aliases: "SELECT alias_id, customer_id FROM customer_aliases WHERE alias_id LIKE $1 ORDER BY alias_id",
  };
  const snapshot: Record<string, unknown[]> = {};
  for (const [name, sql] of Object.entries(tables)) {
    const { rows } = await db.query<Record<string, unknown>>(sql, [`${prefix}%`]);
    snapshot[name] = rows.map((row) =>
      Object.fromEntries(Object.entries(row).filter(([k]) => !skip.has(k)).map(([k, v]) => [k, strip(v)])),
    );
  }
  return snapshot;
}

/**
 * Rows one snapshot has and the other lacks, per table (at most `limit` of each), as JSON: `{}`
 * when they are equal. Readable where a deep diff of hundreds of thousands of rows is not.
 */
export function snapshotDifferences(a: Record<string, unknown[]>, b: Record<string, unknown[]>, limit = 5): Record<string, { onlyInFirst: string[]; onlyInSecond: string[] }> {
  const differences: Record<string, { onlyInFirst: string[]; onlyInSecond: string[] }> = {};
  for (const table of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const [first, second] = [a[table] ?? [], b[table] ?? []].map((rows) => rows.map((row) => JSON.stringify(row)));
    const count = (rows: string[]) => rows.reduce((m, r) => m.set(r, (m.get(r) ?? 0) + 1), new Map<string, number>());
    const [inFirst, inSecond] = [count(first ?? []), count(second ?? [])];
    // Multisets: a row present twice in one and once in the other is a difference too.
    const missingFrom = (from: Map<string, number>, other: Map<string, number>) => [...from].filter(([r, n]) => (other.get(r) ?? 0) < n).map(([r]) => r);
    const onlyInFirst = missingFrom(inFirst, inSecond);
    const onlyInSecond = missingFrom(inSecond, inFirst);
    if (onlyInFirst.length || onlyInSecond.length) differences[table] = { onlyInFirst: onlyInFirst.slice(0, limit), onlyInSecond: onlyInSecond.slice(0, limit) };
  }
  return differences;
}

/** How many events with ids starting with `prefix` the inbox has recorded. */
export async function countRecordedEvents(db: Queryable, prefix: string): Promise<number> {
  const r = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM inbox_events WHERE event_id LIKE $1", [`${prefix}%`]);
  return r.rows[0]?.n ?? 0;
}
