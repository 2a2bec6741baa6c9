import { TICKET_IS_OPEN } from "./tickets.sql.js";

// Recomputes customers' facts from their own rows, aspect by aspect, only for the customers
// whose rows of that aspect a batch changed ($1). Each result depends only on the stored rows,
// never on how the events arrived; and a batch of purchases does not pay for tickets or surveys.

// Purchases are also summarised the way the BG/NBD and Gamma-Gamma models count them: orders on
// the same UTC day merge into one transaction (notes/clv-models.md, pitfall 2). z̄ is the mean of
// the repeat days' sums: everything after the first purchase day.
export const RECOMPUTE_PURCHASES = `
UPDATE customers c SET purchase_count = o.n, first_purchase_at = o.first_at, last_purchase_at = o.last_at,
                       revenue = o.revenue, purchase_days = o.days, repeat_day_spend_mean = o.zbar, updated_at = now()
  FROM (SELECT customer_id, sum(n)::int AS n, min(first_at) AS first_at, max(last_at) AS last_at, sum(amount) AS revenue,
               count(*)::int AS days,
               round(coalesce((sum(amount) - (array_agg(amount ORDER BY day))[1]) / nullif(count(*) - 1, 0), 0), 4) AS zbar
          FROM (SELECT customer_id, (event_time AT TIME ZONE 'UTC')::date AS day, count(*) AS n,
                       min(event_time) AS first_at, max(event_time) AS last_at, sum(amount_base) AS amount
                  FROM orders WHERE customer_id = ANY($1::text[]) GROUP BY customer_id, day) d
         GROUP BY customer_id) o
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
SELECT DISTINCT ON (o.customer_id) o.customer_id, o.event_id, o.event_time
  FROM orders o
 WHERE o.customer_id IN (SELECT subject FROM inbox_events WHERE event_id = ANY($1::text[]) AND type = 'purchase.completed')
 ORDER BY o.customer_id, o.event_time, o.event_id
`;
