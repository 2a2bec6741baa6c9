import type { Pool } from "@lifecycle/db";
import type { Receivers } from "./receivers.js";
import type { Violation } from "./violation.js";

// Every follow-up due by the end of the stream has exactly one outcome (job_outcomes holds one
// row per job id, so "one" is the table's; "none" is the failure to look for), no outbox row was
// given up on, and every `sent` webhook or e-mail reached its receiver at least once. Deliveries
// beyond the first are at-least-once's price: counted and shown, not violations.

export interface FollowUpFigures {
  due: number;
  outcomes: Record<string, number>;
  delivered: { webhook: number; email: number };
  /** Deliveries beyond the first of a job, per channel. */
  duplicateDeliveries: { webhook: number; email: number };
  /** Jobs delivered whose outcome is not `sent` (a worker died after the send; the retry decided otherwise). */
  deliveredNotSent: number;
}

interface DueRow {
  job_id: string;
  customer_id: string;
  channel: string;
  status: string | null;
}

export const DUE_FOLLOW_UPS = `
SELECT o.dedupe_key AS job_id, o.payload->>'customerId' AS customer_id, o.payload->>'channel' AS channel, j.status
  FROM outbox o LEFT JOIN job_outcomes j ON j.job_id = o.dedupe_key
 WHERE o.kind = 'follow-up' AND o.due_at <= $1 AND starts_with(o.payload->>'customerId', $2)`;

export async function checkFollowUps({ pool, receivers, dueBy, prefix }: { pool: Pool; receivers: Receivers; dueBy: Date; prefix: string }): Promise<{ figures: FollowUpFigures; violations: Violation[] }> {
  const violations: Violation[] = [];
  const { rows } = await pool.query<DueRow>(DUE_FOLLOW_UPS, [dueBy, prefix]);
  const outcomes: Record<string, number> = {};
  for (const r of rows) {
    outcomes[r.status ?? "none"] = (outcomes[r.status ?? "none"] ?? 0) + 1;
    if (r.status === null) violations.push({ check: "follow-ups", customerId: r.customer_id, detail: `follow-up ${r.job_id} was due by ${dueBy.toISOString()} and has no outcome` });
  }
  const gaveUp = await pool.query<{ dedupe_key: string; last_error: string | null }>("SELECT dedupe_key, last_error FROM outbox WHERE failed_at IS NOT NULL");
  for (const g of gaveUp.rows) violations.push({ check: "follow-ups", detail: `the relay gave up on outbox row ${g.dedupe_key}: ${g.last_error ?? "?"}` });

  const delivered = receivers.deliveries();
  const sentBy = new Map(rows.filter((r) => r.status === "sent").map((r) => [r.job_id, r]));
  const statusOf = new Map(rows.map((r) => [r.job_id, r.status]));
  const duplicateDeliveries = { webhook: 0, email: 0 };
  let deliveredNotSent = 0;
  for (const channel of ["webhook", "email"] as const) {
    for (const [id, n] of delivered[channel]) {
      duplicateDeliveries[channel] += n - 1;
      if (statusOf.has(id) && statusOf.get(id) !== "sent") deliveredNotSent++;
    }
  }
  for (const [id, r] of sentBy) {
    if ((r.channel === "webhook" || r.channel === "email") && !delivered[r.channel].has(id)) {
      violations.push({ check: "deliveries", customerId: r.customer_id, detail: `follow-up ${id} is recorded sent by ${r.channel} but its receiver never got it` });
    }
  }
  return {
    figures: { due: rows.length, outcomes, delivered: { webhook: delivered.webhook.size, email: delivered.email.size }, duplicateDeliveries, deliveredNotSent },
    violations,
  };
}

/** Due follow-ups still without an outcome (the drain waits for none). */
export async function followUpsOwed(pool: Pool, dueBy: Date, prefix: string): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM (${DUE_FOLLOW_UPS}) d WHERE d.status IS NULL`, [dueBy, prefix]);
  return rows[0]?.n ?? 0;
}
