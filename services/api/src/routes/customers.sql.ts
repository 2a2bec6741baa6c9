// The customer routes' SQL. Every value arrives as a bind parameter; nothing from a request is
// ever spliced into the text.

/** Postgres `timestamptz` as exact text: UTC with microseconds (JS `Date` would drop them). */
const exact = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

const CUSTOMER_COLUMNS = `
  c.customer_id, c.stage, c.stage_reason, ${exact("c.stage_since")} AS stage_since,
  c.historical_clv::text AS historical_clv, c.predicted_clv::text AS predicted_clv, c.p_alive, c.expected_purchases,
  c.expected_spend::text AS expected_spend, c.simple_clv::text AS simple_clv, c.profit_clv::text AS profit_clv, c.clv_cac_ratio,
  c.purchase_count, ${exact("c.first_purchase_at")} AS first_purchase_at, ${exact("c.last_purchase_at")} AS last_purchase_at,
  c.revenue::text AS revenue, c.refunded::text AS refunded,
  c.latest_nps, ${exact("c.latest_nps_at")} AS latest_nps_at, c.latest_csat, ${exact("c.latest_csat_at")} AS latest_csat_at,
  c.latest_ces, ${exact("c.latest_ces_at")} AS latest_ces_at,
  c.health_score, c.health_components, c.open_tickets, c.acquisition_channel, ${exact("c.registered_at")} AS registered_at,
  ${exact("c.updated_at")} AS updated_at`;

/** $1 customer id. */
export const SELECT_CUSTOMER = `SELECT ${CUSTOMER_COLUMNS} FROM customers c WHERE c.customer_id = $1`;

/**
 * The start of the oldest transaction still open on this database (now() when none is), run
 * before the page query. `updated_at` is stamped with now(), the writing transaction's *start*,
 * but becomes visible only at its commit: a row stamped earlier can appear after a reader has
 * paged past its stamp. Serving only rows stamped strictly before this horizon closes that gap:
 * every transaction that could still commit an earlier stamp was open when it was taken. Only
 * sessions whose activity this role may see count (same role, or pg_read_all_stats).
 */
export const SELECT_SETTLED_HORIZON = `
SELECT ${exact("least(now(), min(a.xact_start))")} AS horizon
  FROM pg_stat_activity a
 WHERE a.datname = current_database() AND a.pid <> pg_backend_pid()
   AND a.backend_type = 'client backend' AND a.xact_start IS NOT NULL`;

/**
 * $1 horizon, $2/$3 the position after which to start (updated_at text, id), $4 updatedSince or
 * null, $5 stage or null, $6 rows to fetch. Keyset order (updated_at, customer_id), served by
 * customers_updated_idx.
 */
export const SELECT_CUSTOMER_PAGE = `
SELECT ${CUSTOMER_COLUMNS}
  FROM customers c
 WHERE c.updated_at < $1::timestamptz
   AND (c.updated_at, c.customer_id) > ($2::timestamptz, $3::text)
   AND ($4::timestamptz IS NULL OR c.updated_at >= $4::timestamptz)
   AND ($5::text IS NULL OR c.stage = $5::text)
 ORDER BY c.updated_at, c.customer_id
 LIMIT $6`;

/** $1 customer id. */
export const CUSTOMER_EXISTS = `SELECT 1 FROM customers WHERE customer_id = $1`;

/**
 * $1 customer id, $2/$3/$4 the position (time, rank, key) before which to start, $5 rows to fetch.
 * Stage changes and events merged newest first: by time, then a stage change (rank 1) above the
 * event at the same time that caused it, then by key (byte order). Each side fetches at most $5.
 */
export const SELECT_TIMELINE = `
SELECT kind, ${exact("at")} AS at, rank, key, id, from_stage, to_stage, reason, ${exact("recorded_at")} AS recorded_at, type, data
  FROM (
    (SELECT 'stage-change' AS kind, t.event_time AS at, 1 AS rank, lpad(t.id::text, 20, '0') COLLATE "C" AS key,
            t.id::text AS id, t.from_stage, t.to_stage, t.reason, t.recorded_at, NULL::text AS type, NULL::jsonb AS data
       FROM stage_transitions t
      WHERE t.customer_id = $1
        AND (t.event_time, 1, lpad(t.id::text, 20, '0') COLLATE "C") < ($2::timestamptz, $3::int, $4::text COLLATE "C")
      ORDER BY t.event_time DESC, t.id DESC
      LIMIT $5)
    UNION ALL
    (SELECT 'event', e.event_time, 0, e.event_id COLLATE "C",
            e.event_id, NULL, NULL, NULL, NULL, e.type, e.data
       FROM inbox_events e
      WHERE e.subject = $1
        AND (e.event_time, 0, e.event_id COLLATE "C") < ($2::timestamptz, $3::int, $4::text COLLATE "C")
      ORDER BY e.event_time DESC, e.event_id COLLATE "C" DESC
      LIMIT $5)
  ) items
 ORDER BY items.at DESC, items.rank DESC, items.key DESC
 LIMIT $5`;

/** The personal fields of a `customer.registered` event's data. */
export const REGISTRATION_PII_FIELDS = ["email", "name", "birthday", "referredBy"];

/**
 * The erasure, in one transaction. $1 customer id throughout. Each statement touches only rows
 * that still hold personal data, so its row count is what this call erased (0 on a repeat).
 */
export const ERASURE = {
  lockCustomer: `SELECT 1 FROM customers WHERE customer_id = $1 FOR UPDATE`,
  // The profile's personal columns. Kept: the id (the CRM's key), acquisition channel and cost,
  // dates, stage, facts, CLV and scores: aggregates, not personal data.
  customers: `
UPDATE customers SET email = NULL, name = NULL, birthday = NULL, referred_by = NULL
 WHERE customer_id = $1 AND (email IS NOT NULL OR name IS NOT NULL OR birthday IS NOT NULL OR referred_by IS NOT NULL)`,
  // $2 the registration's personal fields. The events stay (ids, times, channel, amounts).
  inboxEvents: `
UPDATE inbox_events SET data = CASE type WHEN 'customer.registered' THEN data - $2::text[] ELSE data - 'comment' END
 WHERE subject = $1
   AND ((type = 'customer.registered' AND data ?| $2::text[]) OR (type = 'survey.responded' AND data ? 'comment'))`,
  surveyResponses: `UPDATE survey_responses SET comment = NULL WHERE customer_id = $1 AND comment IS NOT NULL`,
  // Birthday-gift follow-ups carry the birthday in their context (published or not). A full scan
  // of the follow-up rows: erasures are rare, an index would cost every outbox insert.
  followUps: `
UPDATE outbox SET payload = jsonb_set(payload, '{context}', (payload->'context') - 'birthday')
 WHERE kind = 'follow-up' AND payload->>'customerId' = $1 AND payload->'context' ? 'birthday'`,
  // $2 the API key id, $3 the counts as JSON.
  record: `
INSERT INTO personal_data_erasures (customer_id, api_key_id, erased) VALUES ($1, $2, $3::jsonb)
RETURNING ${exact("erased_at")} AS erased_at`,
} as const;
