import { TICKET_IS_OPEN } from "./tickets.sql.js";

// Recomputes customers' facts from their own rows, aspect by aspect, only for the customers
// whose rows of that aspect a batch changed ($1). Each result depends only on the stored rows,
// never on how the events arrived; and a batch of purchases does not pay for tickets or surveys.

export const RECOMPUTE_PURCHASES = `
UPDATE customers c SET purchase_count = o.n, first_purchase_at = o.first_at, last_purchase_at = o.last_at,
                       revenue = o.revenue, updated_at = now()
  FROM (SELECT customer_id, count(*)::int AS n, min(event_time) AS first_at, max(event_time) AS last_at, sum(amount_base) AS revenue
          FROM orders WHERE customer_id = ANY($1::text[]) GROUP BY customer_id) o
 WHERE c.customer_id = o.customer_id
`;

export const RECOMPUTE_REFUNDS = `
UPDATE customers c SET refunded = r.total, updated_at = now()
  FROM (SELECT customer_id, sum(amount_base) AS total FROM refunds WHERE customer_id = ANY($1::text[]) GROUP BY customer_id) r
 WHERE c.customer_id = r.customer_id
`;

export const RECOMPUTE_TICKETS = `
UPDATE customers c SET tickets_total = t.total, open_tickets = t.open, updated_at = now()
  FROM (SELECT customer_id, count(*)::int AS total, (count(*) FILTER (WHERE ${TICKET_IS_OPEN}))::int AS open
          FROM tickets WHERE customer_id = ANY($1::text[]) GROUP BY customer_id) t
 WHERE c.customer_id = t.customer_id
`;

const latest = (kind: string) => `
    (array_agg(score ORDER BY event_time DESC, event_id DESC) FILTER (WHERE kind = '${kind}'))[1] AS ${kind},
    max(event_time) FILTER (WHERE kind = '${kind}') AS ${kind}_at`;

export const RECOMPUTE_SURVEYS = `
UPDATE customers c SET latest_nps = s.nps, latest_nps_at = s.nps_at, latest_csat = s.csat, latest_csat_at = s.csat_at,
                       latest_ces = s.ces, latest_ces_at = s.ces_at, updated_at = now()
  FROM (SELECT customer_id, ${latest("nps")}, ${latest("csat")}, ${latest("ces")}
          FROM survey_responses WHERE customer_id = ANY($1::text[]) GROUP BY customer_id) s
 WHERE c.customer_id = s.customer_id
`;

/** $1: the new event ids. Customers whose first purchase (earliest order) is among them. */
export const FIRST_PURCHASES_AMONG = `
SELECT DISTINCT ON (o.customer_id) o.customer_id, o.event_id
  FROM orders o
 WHERE o.customer_id IN (SELECT subject FROM inbox_events WHERE event_id = ANY($1::text[]) AND type = 'purchase.completed')
 ORDER BY o.customer_id, o.event_time, o.event_id
`;
