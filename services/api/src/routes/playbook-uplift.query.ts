// The counts behind the holdout uplift (issue 11, point 5): per playbook, treated and held-out
// customers and how many of each bought within N days. The statistics are `uplift()` in
// packages/domain; this file only counts. One fixed SQL text, every value a bind parameter.
import { z } from "zod";
import type { Queryable } from "@lifecycle/db";

/**
 * Which follow-ups count, and from when their purchase window runs:
 *
 * - A follow-up counts once its outcome is final and decides the group: `sent` (treated) or
 *   `held-out`. Skipped ones (moot, no consent, capped, expired) are in neither group: the worker
 *   decides the holdout only after those checks, so both groups are alike in everything but the
 *   message.
 * - The window starts at the follow-up's due time (`job_outcomes.due_at`, copied from its outbox
 *   row when the outcome is recorded: the trigger's event time plus the playbook's delay), not at the outcome's `finished_at`. The due time is on the
 *   same clock as the orders' event times in both clock modes; `finished_at` is the worker's wall
 *   time, which in a watermark replay of history is years after the orders it would be compared
 *   with. It is also the same instant for both groups, where `finished_at` of a sent follow-up can
 *   be later (quiet hours, retries). The trigger time itself would count purchases made before the
 *   message was due (thank-you's own first purchase among them).
 * - A purchase converts when its event time is in (due, due + N days]: strictly after, so the
 *   purchase that triggered a follow-up due at once (thank-you) does not count as its effect.
 * - A customer counts once per playbook, with their earliest follow-up due in [from, to): the
 *   holdout is a function of (playbook, customer), so their later ones are in the same group.
 * - Only customers whose window has ended by `now` (the engine's clock) are in the rates; the
 *   others are counted as pending. Counting an open window as "not converted" would bias the
 *   rates low, the more so the more recent the follow-up.
 *
 * The playbook is the job id's second part (fu|playbook|customer|trigger), as the worker reads it.
 * Follow-ups that never went through the outbox have no due time and are left out.
 *
 * $1 from, $2 to (due time, [from, to)), $3 days, $4 now.
 */
const UPLIFT_SQL = `
WITH first_follow_up AS (
  SELECT DISTINCT ON (split_part(j.job_id, '|', 2), j.customer_id)
         split_part(j.job_id, '|', 2) AS playbook, j.customer_id, j.status, j.due_at,
         j.due_at + make_interval(days => $3) AS window_end
    FROM job_outcomes j
   WHERE j.status IN ('sent', 'held-out') AND j.due_at >= $1 AND j.due_at < $2
   ORDER BY split_part(j.job_id, '|', 2), j.customer_id, j.due_at
), judged AS (
  SELECT f.playbook, f.status, f.window_end <= $4 AS complete,
         EXISTS (SELECT 1 FROM orders p
                  WHERE p.customer_id = f.customer_id AND p.event_time > f.due_at AND p.event_time <= f.window_end) AS converted
    FROM first_follow_up f
)
SELECT playbook, status,
       count(*) FILTER (WHERE complete)::int AS customers,
       count(*) FILTER (WHERE complete AND converted)::int AS converted,
       count(*) FILTER (WHERE NOT complete)::int AS pending
  FROM judged
 GROUP BY playbook, status
 ORDER BY playbook, status`;

const UpliftRow = z.object({
  playbook: z.string(),
  status: z.enum(["sent", "held-out"]),
  customers: z.number().int(),
  converted: z.number().int(),
  pending: z.number().int(),
});

export interface GroupCounts {
  /** Customers whose window has ended: the rate's denominator. */
  customers: number;
  /** Of those, customers with a purchase in the window. */
  converted: number;
  /** Customers whose window is still open at `now`: not in the rate yet. */
  pending: number;
}

export interface PlaybookCounts {
  treated: GroupCounts;
  heldOut: GroupCounts;
}

const empty = (): GroupCounts => ({ customers: 0, converted: 0, pending: 0 });

/** Treated and held-out counts per playbook (playbooks without any follow-up in the period are absent). */
export async function countUplift(db: Queryable, { from, to, days, now }: { from: Date; to: Date; days: number; now: Date }): Promise<Map<string, PlaybookCounts>> {
  const { rows } = await db.query<Record<string, unknown>>(UPLIFT_SQL, [from, to, days, now]);
  const counts = new Map<string, PlaybookCounts>();
  for (const row of rows.map((r) => UpliftRow.parse(r))) {
    const entry = counts.get(row.playbook) ?? { treated: empty(), heldOut: empty() };
    entry[row.status === "sent" ? "treated" : "heldOut"] = { customers: row.customers, converted: row.converted, pending: row.pending };
    counts.set(row.playbook, entry);
  }
  return counts;
}
