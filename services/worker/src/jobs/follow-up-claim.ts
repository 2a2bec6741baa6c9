import type { Queryable } from "@lifecycle/db";

/** Who a follow-up is for now: the customer its id resolves to, and whether merges joined ids into it. */
export interface FollowUpRecipient {
  customerId: string;
  /** The job's id was merged away, or other ids were merged into it: its follow-ups may be duplicates. */
  merged: boolean;
}

/** A job queued for an id that was merged since is the survivor's job (customer_aliases). */
export async function resolveRecipient(db: Queryable, customerId: string): Promise<FollowUpRecipient> {
  const r = await db.query<{ customer_id: string; merged: boolean }>(
    `SELECT COALESCE(a.customer_id, $1) AS customer_id,
            (a.customer_id IS NOT NULL OR EXISTS (SELECT 1 FROM customer_aliases x WHERE x.customer_id = $1)) AS merged
       FROM (SELECT 1) one LEFT JOIN customer_aliases a ON a.alias_id = $1`,
    [customerId],
  );
  const row = r.rows[0];
  return { customerId: row?.customer_id ?? customerId, merged: row?.merged ?? false };
}

// The first job to reach (customer, playbook, trigger) holds it; a holder whose outcome is `failed`
// (given up, or failed for good) lets the next one take over. Returns the row only to its holder.
const CLAIM = `
INSERT INTO follow_up_claims (customer_id, playbook, trigger, job_id) VALUES ($1, $2, $3, $4)
ON CONFLICT (customer_id, playbook, trigger) DO UPDATE SET job_id = EXCLUDED.job_id, claimed_at = now()
 WHERE follow_up_claims.job_id = EXCLUDED.job_id
    OR EXISTS (SELECT 1 FROM job_outcomes o WHERE o.job_id = follow_up_claims.job_id AND o.status = 'failed')
RETURNING job_id`;

// Another job of the same playbook and trigger that already ended for this customer (its outcome moved
// here with the merge): one sent for the merged id before the merge, say. Job ids are
// fu|playbook|customer|trigger, each part percent-encoded (followUpJobId).
const DONE_BEFORE = `
SELECT job_id, status FROM job_outcomes
 WHERE customer_id = $1 AND job_id <> $4 AND status <> 'failed'
   AND split_part(job_id, '|', 2) = $2 AND split_part(job_id, '|', 4) = $3
 LIMIT 1`;

/**
 * After a merge, two jobs queued for the merged profiles can be the same follow-up: both ids' first
 * purchases queued a thank-you, both answered the survey of one order. A follow-up is identified by
 * (customer, playbook, trigger), its job id had it been queued for the survivor: the first job to
 * get there is sent, the others are skipped. Resolves with why this one is a duplicate, or undefined.
 */
export async function duplicateAfterMerge(
  db: Queryable,
  { customerId, playbook, trigger, jobId }: { customerId: string; playbook: string; trigger: string; jobId: string },
): Promise<string | undefined> {
  const done = await db.query<{ job_id: string; status: string }>(DONE_BEFORE, [customerId, playbook, encodeURIComponent(trigger), jobId]);
  const before = done.rows[0];
  if (before) return `duplicate-after-merge: ${before.job_id} is the same follow-up for ${customerId} and was ${before.status}`;
  const claimed = await db.query(CLAIM, [customerId, playbook, trigger, jobId]);
  if (claimed.rowCount === 0) return `duplicate-after-merge: another job of ${customerId} holds the same follow-up (${playbook}, ${trigger})`;
  return undefined;
}
