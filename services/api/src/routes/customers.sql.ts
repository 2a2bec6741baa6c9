// The customer routes' SQL. Every value arrives as a bind parameter; nothing from a request is
// ever spliced into the text.

/** Postgres `timestamptz` as exact text: UTC with microseconds (JS `Date` would drop them). */
const exact = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

const CUSTOMER_COLUMNS = `
  c.customer_id, c.stage, c.stage_reason, ${exact("c.stage_since")} AS stage_since,
  c.historical_clv::text AS historical_clv, c.predicted_clv::text AS predicted_clv, c.p_alive, c.expected_purchases,
  c.expected_spend::text AS expected_spend, c.simple_clv::text AS simple_clv, c.profit_clv::text AS profit_clv, c.clv_cac_ratio,
  c.clv_lifespan_years, c.clv_lifespan_source,
  c.purchase_count, ${exact("c.first_purchase_at")} AS first_purchase_at, ${exact("c.last_purchase_at")} AS last_purchase_at,
  c.revenue::text AS revenue, c.refunded::text AS refunded,
  c.latest_nps, ${exact("c.latest_nps_at")} AS latest_nps_at, c.latest_csat, ${exact("c.latest_csat_at")} AS latest_csat_at,
  c.latest_ces, ${exact("c.latest_ces_at")} AS latest_ces_at,
  c.health_score, c.health_components, c.open_tickets, c.acquisition_channel, ${exact("c.registered_at")} AS registered_at,
  ${exact("c.updated_at")} AS updated_at`;

/** $1 customer id. With the ids that resolve to it (identity resolution), in byte order. */
export const SELECT_CUSTOMER = `
SELECT ${CUSTOMER_COLUMNS},
       ARRAY(SELECT a.alias_id FROM customer_aliases a WHERE a.customer_id = c.customer_id ORDER BY a.alias_id COLLATE "C") AS aliases
  FROM customers c WHERE c.customer_id = $1`;

/** $1 an id: the customer it was merged into (or linked to), when it is an alias. */
export const SELECT_ALIAS = `SELECT alias_id, customer_id, ${exact("merged_at")} AS merged_at FROM customer_aliases WHERE alias_id = $1`;

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
 * The events are those stored under the customer's id and under each id that resolves to it (the
 * inbox keeps the subject an event was sent under): at most $5 per id, each read newest first
 * from the (subject, event_time) index, so a customer with aliases costs no scan of its history.
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
       FROM (SELECT $1::text AS id UNION ALL SELECT a.alias_id FROM customer_aliases a WHERE a.customer_id = $1) ids
      CROSS JOIN LATERAL (
            SELECT i.event_time, i.event_id, i.type, i.data
              FROM inbox_events i
             WHERE i.subject = ids.id
               AND (i.event_time, 0, i.event_id COLLATE "C") < ($2::timestamptz, $3::int, $4::text COLLATE "C")
             ORDER BY i.event_time DESC, i.event_id COLLATE "C" DESC
             LIMIT $5) e
      ORDER BY e.event_time DESC, e.event_id COLLATE "C" DESC
      LIMIT $5)
  ) items
 ORDER BY items.at DESC, items.rank DESC, items.key DESC
 LIMIT $5`;

/** The personal fields of a `customer.registered` event's data. */
export const REGISTRATION_PII_FIELDS = ["email", "name", "birthday", "referredBy"];

/**
 * What an erased value becomes where something must stay in its place. A referral code, in
 * `orders` and in the stored purchase events: the code names whoever referred the customer, but
 * that the order came by referral is an aggregate (the referral rate counts orders with a code).
 * The ids in identify and merge events and in `lifecycle.customer.merged` messages (an e-mail
 * address, say): how many ids were linked stays, and the messages still parse.
 */
export const ERASED = "erased";

/** Why the erasure gave up an outbox message not yet sent (a follow-up, a merge announcement): its `last_error`. */
export const GIVEN_UP_BY_ERASURE = "customer erased";

/** Follow-up job id `column` (fu|playbook|customer|trigger) with its customer part replaced by `m.placeholder`. */
const jobIdWith = (column: string) => `concat_ws('|', split_part(${column}, '|', 1), split_part(${column}, '|', 2), m.placeholder, split_part(${column}, '|', 4))`;
/** A JSON array of ids with each replaced by the placeholder in parameter `param` (ERASED); [] for none. */
const erasedIds = (array: string, param: string) => `coalesce((SELECT jsonb_agg(to_jsonb(${param}::text)) FROM jsonb_array_elements(${array})), '[]'::jsonb)`;
/** Whether a JSON array of ids still holds one that is not the placeholder in `param`. */
const holdsIds = (array: string, param: string) => `EXISTS (SELECT 1 FROM jsonb_array_elements_text(${array}) AS x(id) WHERE x.id IS DISTINCT FROM ${param})`;

/**
 * The erasure, in one transaction. $1 the customer id, `ids` the customer's id and every id that
 * resolves to it (its aliases). Each statement touches only rows that still hold personal data,
 * so its row count is what this call erased (0 on a repeat).
 */
export const ERASURE = {
  lockCustomer: `SELECT 1 FROM customers WHERE customer_id = $1 FOR UPDATE`,
  // $2 ids. An alias (an e-mail address, say) is personal data where the inbox keeps it as the
  // subject an event was sent under: those events are the customer's, under the customer's id.
  aliasEvents: `UPDATE inbox_events SET subject = $1 WHERE subject = ANY($2::text[]) AND subject <> $1`,
  // The profile's personal columns (the cancel reason is free text). Kept: the id (the CRM's key),
  // acquisition channel and cost, dates, stage, facts, CLV and scores: aggregates, not personal data.
  customers: `
UPDATE customers SET email = NULL, name = NULL, birthday = NULL, referred_by = NULL, cancel_reason = NULL
 WHERE customer_id = $1 AND (email IS NOT NULL OR name IS NOT NULL OR birthday IS NOT NULL OR referred_by IS NOT NULL OR cancel_reason IS NOT NULL)`,
  // $2 the registration's personal fields, $3 ERASED. Run after aliasEvents: every event of the
  // customer is under $1 then. The events stay (ids, times, channel, amounts); what goes is personal
  // or free text: the registration's fields, a survey's comment, a cancellation's reason, an order's
  // referral code, the ids an identify or merge event linked and a merge's reason (ids and codes
  // replaced, see ERASED).
  inboxEvents: `
UPDATE inbox_events SET data = CASE type
         WHEN 'customer.registered' THEN data - $2::text[]
         WHEN 'customer.cancelled' THEN data - 'reason'
         WHEN 'purchase.completed' THEN jsonb_set(data, '{referralCode}', to_jsonb($3::text))
         WHEN 'customer.identified' THEN jsonb_set(data, '{ids}', ${erasedIds("data->'ids'", "$3")})
         WHEN 'customer.merged' THEN jsonb_set(data - 'reason', '{mergedIds}', ${erasedIds("data->'mergedIds'", "$3")})
         ELSE data - 'comment' END
 WHERE subject = $1
   AND ((type = 'customer.registered' AND data ?| $2::text[])
     OR (type = 'survey.responded' AND data ? 'comment')
     OR (type = 'customer.cancelled' AND data ? 'reason')
     OR (type = 'purchase.completed' AND data ? 'referralCode' AND data->>'referralCode' IS DISTINCT FROM $3)
     OR (type = 'customer.identified' AND ${holdsIds("data->'ids'", "$3")})
     OR (type = 'customer.merged' AND (data ? 'reason' OR ${holdsIds("data->'mergedIds'", "$3")})))`,
  surveyResponses: `UPDATE survey_responses SET comment = NULL WHERE customer_id = $1 AND comment IS NOT NULL`,
  // $2 ERASED.
  orders: `UPDATE orders SET referral_code = $2 WHERE customer_id = $1 AND referral_code IS NOT NULL AND referral_code <> $2`,
  // $1 ids (a follow-up queued before a merge names the merged id), $2 the personal keys of a
  // follow-up's context (the birthday), $3 GIVEN_UP_BY_ERASURE.
  // Every follow-up of the customer loses them (published or not); one that has not run to an
  // outcome is given up, so neither the relay nor the Redis-loss reconciliation (which re-adds
  // published rows without an outcome, failed ones excepted) ever hands it to BullMQ again. Rows
  // with an outcome stay as they are: the playbook uplift reads their due time. A full scan of the
  // follow-up rows: erasures are rare, an index would cost every outbox insert.
  followUps: `
UPDATE outbox o
   SET payload = jsonb_set(o.payload, '{context}', coalesce(o.payload->'context', '{}'::jsonb) - $2::text[]),
       failed_at = CASE WHEN unfinished.yes THEN now() ELSE o.failed_at END,
       last_error = CASE WHEN unfinished.yes THEN $3 ELSE o.last_error END
  FROM (SELECT o2.id, (o2.failed_at IS NULL AND NOT EXISTS (SELECT 1 FROM job_outcomes j WHERE j.job_id = o2.dedupe_key)) AS yes
          FROM outbox o2 WHERE o2.kind = 'follow-up' AND o2.payload->>'customerId' = ANY($1::text[])) unfinished
 WHERE o.id = unfinished.id AND (unfinished.yes OR o.payload->'context' ?| $2::text[])`,
  // $1 the customer id, $2 ids, $3 ERASED, $4 GIVEN_UP_BY_ERASURE. The merges announced for the
  // customer (its survivor then may be one of its aliases now), scrubbed like follow-ups: the ids
  // are replaced and the subject becomes the customer's id; one not yet published is given up, as
  // announcing ids to CRMs after erasing them would undo the erasure (the erasure is announced).
  mergeMessages: `
UPDATE outbox o
   SET payload = jsonb_set(jsonb_set(jsonb_set(o.payload, '{subject}', to_jsonb($1::text)),
                   '{data,mergedIds}', ${erasedIds("o.payload->'data'->'mergedIds'", "$3")}),
                   '{data,ids}', ${erasedIds("o.payload->'data'->'ids'", "$3")}),
       failed_at = CASE WHEN o.published_at IS NULL AND o.failed_at IS NULL THEN now() ELSE o.failed_at END,
       last_error = CASE WHEN o.published_at IS NULL AND o.failed_at IS NULL THEN $4 ELSE o.last_error END
 WHERE o.kind = 'customer-merged' AND o.payload->>'subject' = ANY($2::text[])
   AND ((o.published_at IS NULL AND o.failed_at IS NULL) OR o.payload->>'subject' <> $1
     OR ${holdsIds("o.payload->'data'->'mergedIds'", "$3")} OR ${holdsIds("o.payload->'data'->'ids'", "$3")})`,
  // $1 the customer id, $2 the aliases as follow-up job ids hold them (percent-encoded,
  // followUpJobId), $3 a placeholder for each, the same encoded. A follow-up queued under an alias
  // before the merge keeps that id in its job id (`fu|thank-you|email%3Aann%40…|first-purchase`):
  // in the outbox, job outcomes and the cap and merge claims, the alias part becomes its
  // placeholder (random, so no two jobs collide: the customer may have the same follow-up under
  // its own id), and the outbox message names the customer. Outcomes and claims were moved to the
  // customer by the merge, so its id finds them. Run after jobIds, whose ids BullMQ still holds.
  aliasJobIds: `
WITH m AS (SELECT * FROM unnest($2::text[], $3::text[]) AS m(alias_part, placeholder)),
outbox_rows AS (
  UPDATE outbox o SET dedupe_key = ${jobIdWith("o.dedupe_key")}, payload = jsonb_set(o.payload, '{customerId}', to_jsonb($1::text))
    FROM m WHERE o.kind = 'follow-up' AND split_part(o.dedupe_key, '|', 3) = m.alias_part RETURNING 1),
outcomes AS (
  UPDATE job_outcomes j SET job_id = ${jobIdWith("j.job_id")}
    FROM m WHERE j.customer_id = $1 AND split_part(j.job_id, '|', 3) = m.alias_part RETURNING 1),
cap_claims AS (
  UPDATE marketing_cap_claims c SET job_id = ${jobIdWith("c.job_id")}
    FROM m WHERE c.customer_id = $1 AND split_part(c.job_id, '|', 3) = m.alias_part RETURNING 1),
merge_claims AS (
  UPDATE follow_up_claims f SET job_id = ${jobIdWith("f.job_id")}
    FROM m WHERE f.customer_id = $1 AND split_part(f.job_id, '|', 3) = m.alias_part RETURNING 1)
SELECT (SELECT count(*) FROM outbox_rows) + (SELECT count(*) FROM outcomes) + (SELECT count(*) FROM cap_claims) + (SELECT count(*) FROM merge_claims) AS n`,
  // $1 ids. The identity graph's links among the customer's ids, and the aliases they gave: the
  // aliases stop resolving to the customer, so events sent under one of them later make a new,
  // separate customer (nothing links it to the erased one any more; a redelivered identify or
  // merge event is a duplicate in the inbox and links nothing again).
  identityLinks: `DELETE FROM identity_links WHERE anchor_id = ANY($1::text[]) OR linked_id = ANY($1::text[])`,
  aliases: `DELETE FROM customer_aliases WHERE alias_id = ANY($1::text[])`,
  // $1 ids. The ids of the customer's follow-up jobs, for their removal from BullMQ: a follow-up's
  // outbox dedupe key is its job id, and a job that ran has an outcome under it.
  jobIds: `
SELECT dedupe_key AS job_id FROM outbox WHERE kind = 'follow-up' AND payload->>'customerId' = ANY($1::text[])
 UNION
SELECT job_id FROM job_outcomes WHERE customer_id = ANY($1::text[])`,
  // $2 the API key id, $3 the counts as JSON.
  record: `
INSERT INTO personal_data_erasures (customer_id, api_key_id, erased) VALUES ($1, $2, $3::jsonb)
RETURNING id::text AS id, ${exact("erased_at")} AS erased_at`,
} as const;
