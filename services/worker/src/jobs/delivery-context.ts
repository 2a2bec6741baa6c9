import type { ChannelConsent } from "@lifecycle/domain";
import type { Queryable } from "@lifecycle/db";

/** What deciding a delivery needs from Postgres besides the customer (loadFollowUpCustomer has its time zone): consent, marketing sent. */
export interface DeliveryContext {
  consent: ChannelConsent | undefined;
  sentMarketing: { at: Date; playbook: string }[];
}

interface Row {
  status: "granted" | "withdrawn" | "suppressed" | null;
  source: string | null;
  event_time: Date | null;
  sent: { at: string; playbook: string }[];
}

// One round trip. Marketing sent: the customer's `sent` outcomes of marketing playbooks within the
// cap's window; the playbook is the second part of the job id (fu|playbook|customer|trigger).
const SQL = `
SELECT cc.status, cc.source, cc.event_time,
       COALESCE((SELECT jsonb_agg(jsonb_build_object('at', o.finished_at, 'playbook', split_part(o.job_id, '|', 2)))
                   FROM job_outcomes o
                  WHERE o.customer_id = c.customer_id AND o.status = 'sent' AND o.finished_at > $4
                    AND split_part(o.job_id, '|', 2) = ANY($3::text[])), '[]'::jsonb) AS sent
  FROM customers c
  LEFT JOIN customer_consents cc ON cc.customer_id = c.customer_id AND cc.channel = $2
 WHERE c.customer_id = $1`;

export async function loadDeliveryContext(
  db: Queryable,
  { customerId, channel, marketingPlaybooks, since }: { customerId: string; channel: string; marketingPlaybooks: readonly string[]; since: Date },
): Promise<DeliveryContext> {
  const { rows } = await db.query<Row>(SQL, [customerId, channel, marketingPlaybooks, since]);
  const row = rows[0];
  if (!row) return { consent: undefined, sentMarketing: [] };
  const consent: ChannelConsent | undefined =
    row.status === null
      ? undefined
      : row.status === "suppressed"
        ? { suppressed: { reason: row.source === "complaint" ? "complaint" : "hard-bounce", at: row.event_time ?? new Date(0) } }
        : { status: row.status };
  return { consent, sentMarketing: row.sent.map((s) => ({ at: new Date(s.at), playbook: s.playbook })) };
}
