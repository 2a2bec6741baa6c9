import type { CapCandidate, ChannelConsent } from "@lifecycle/domain";
import type { Queryable } from "@lifecycle/db";

/** What deciding a delivery needs from Postgres besides the customer (loadFollowUpCustomer has its time zone): consent, marketing sent and due. */
export interface DeliveryContext {
  consent: ChannelConsent | undefined;
  sentMarketing: { at: Date; playbook: string }[];
  /** The customer's other marketing jobs being attempted now and not yet let through (cap-slot.ts). */
  dueMarketing: CapCandidate[];
}

interface Row {
  status: "granted" | "withdrawn" | "suppressed" | null;
  source: string | null;
  event_time: Date | null;
  sent: { at: string; playbook: string }[];
  due: { id: string; playbook: string; priority: number; due_at: string }[];
}

// One round trip. Marketing sent: the customer's `sent` outcomes of marketing playbooks within the
// cap's window; the playbook is the second part of the job id (fu|playbook|customer|trigger). One
// recorded after `now` (while this job waited for the cap lock) counts as sent now, and so do the
// other jobs let through and still sending (marketing_cap_claims holding a slot); the others there
// are due beside this one. A claim without a final outcome older than 15 minutes is a crashed
// attempt's (a send times out long before), and one with an outcome is history. Due beside it too:
// the customer's marketing follow-ups the outbox says are due (within the cap's window) and have
// no outcome yet, though no worker has picked them up: which job a worker starts first must not
// decide who gets the last slot (migration 0018). Like a claim, such a job counts ahead of a
// lower-priority one even if its own checks later skip it.
const SQL = `
WITH claims AS (
  SELECT r.job_id, r.priority, r.due_at, r.holds_slot
    FROM marketing_cap_claims r
   WHERE r.customer_id = $1 AND r.job_id <> $6 AND r.updated_at > now() - interval '15 minutes'
     AND NOT EXISTS (SELECT 1 FROM job_outcomes o WHERE o.job_id = r.job_id AND o.status <> 'failed')),
queued AS (
  SELECT q.dedupe_key AS job_id, COALESCE((q.payload->>'priority')::int, 10) AS priority, q.due_at
    FROM outbox q
   WHERE split_part(q.dedupe_key, '|', 3) = $7 AND q.kind = 'follow-up'
     AND q.due_at > $4 AND q.due_at <= $5 AND q.failed_at IS NULL AND q.dedupe_key <> $6
     AND split_part(q.dedupe_key, '|', 2) = ANY($3::text[])
     AND NOT EXISTS (SELECT 1 FROM job_outcomes o WHERE o.job_id = q.dedupe_key)
     AND NOT EXISTS (SELECT 1 FROM claims c WHERE c.job_id = q.dedupe_key)),
due AS (
  SELECT job_id, priority, due_at FROM claims WHERE NOT holds_slot
  UNION ALL
  SELECT job_id, priority, due_at FROM queued)
SELECT cc.status, cc.source, cc.event_time,
       COALESCE((SELECT jsonb_agg(jsonb_build_object('at', LEAST(o.finished_at, $5), 'playbook', split_part(o.job_id, '|', 2)))
                   FROM job_outcomes o
                  WHERE o.customer_id = c.customer_id AND o.status = 'sent' AND o.finished_at > $4
                    AND split_part(o.job_id, '|', 2) = ANY($3::text[])), '[]'::jsonb)
       || COALESCE((SELECT jsonb_agg(jsonb_build_object('at', $5::timestamptz, 'playbook', split_part(job_id, '|', 2)))
                      FROM claims WHERE holds_slot), '[]'::jsonb) AS sent,
       COALESCE((SELECT jsonb_agg(jsonb_build_object('id', job_id, 'playbook', split_part(job_id, '|', 2), 'priority', priority, 'due_at', due_at))
                   FROM due), '[]'::jsonb) AS due
  FROM customers c
  LEFT JOIN customer_consents cc ON cc.customer_id = c.customer_id AND cc.channel = $2
 WHERE c.customer_id = $1`;

export async function loadDeliveryContext(
  db: Queryable,
  { customerId, channel, marketingPlaybooks, since, now, jobId }: { customerId: string; channel: string; marketingPlaybooks: readonly string[]; since: Date; now: Date; jobId: string },
): Promise<DeliveryContext> {
  // Job ids hold their parts URI-encoded (followUpJobId), the customer's too.
  const { rows } = await db.query<Row>(SQL, [customerId, channel, marketingPlaybooks, since, now, jobId, encodeURIComponent(customerId)]);
  const row = rows[0];
  if (!row) return { consent: undefined, sentMarketing: [], dueMarketing: [] };
  const consent: ChannelConsent | undefined =
    row.status === null
      ? undefined
      : row.status === "suppressed"
        ? { suppressed: { reason: row.source === "complaint" ? "complaint" : "hard-bounce", at: row.event_time ?? new Date(0) } }
        : { status: row.status };
  return {
    consent,
    sentMarketing: row.sent.map((s) => ({ at: new Date(s.at), playbook: s.playbook })),
    dueMarketing: row.due.map((d) => ({ id: d.id, playbook: d.playbook, priority: d.priority, dueAt: new Date(d.due_at) })),
  };
}
