-- Up Migration

-- Retention (issue 15): a bounded working set.
--
-- 1. Dedupe outlives payloads. `event_ids` holds one compact row per accepted event (the md5 of its
--    CloudEvents id as a uuid, 16 bytes, and when it was recorded) for EVENT_DEDUPE_WINDOW_DAYS;
--    the payload in `inbox_events` can go sooner, with its month. The ingest's insert of a batch
--    claims the ids here first (ON CONFLICT DO NOTHING) and stores only the payloads that were new.
CREATE TABLE event_ids (
  event_key    uuid PRIMARY KEY,
  recorded_at  timestamptz NOT NULL DEFAULT now()
);
-- Rows are appended in recorded_at order: a block-range index finds the old ones for a few pages
-- of index, where a b-tree would cost every insert of the hot path another index entry.
CREATE INDEX event_ids_recorded_at_idx ON event_ids USING brin (recorded_at);

-- 2. Monthly partitions by event time (UTC months), each named <table>_mYYYY_MM, and a default
--    partition for event times no monthly partition covers yet (a backfill of old history, say).
--    Only maintenance creates partitions (never the hot path): `lifecycle_month_partition` makes
--    one month's partition, moving that month's rows out of the default partition if it holds any.
CREATE FUNCTION lifecycle_month_partition(parent text, month timestamptz) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
  lower timestamptz := date_trunc('month', month AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
  upper timestamptz := (date_trunc('month', month AT TIME ZONE 'UTC') + interval '1 month') AT TIME ZONE 'UTC';
  name text := format('%s_m%s', parent, to_char(lower AT TIME ZONE 'UTC', 'YYYY_MM'));
BEGIN
  -- One partition-maker at a time, across replicas and the migration.
  PERFORM pg_advisory_xact_lock(hashtext('lifecycle:partitions'));
  IF to_regclass(name) IS NOT NULL THEN
    RETURN false;
  END IF;
  EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', name, parent);
  -- The month's rows that landed in the default partition move into the new one.
  EXECUTE format(
    'WITH moved AS (DELETE FROM %I WHERE event_time >= $1 AND event_time < $2 RETURNING *) INSERT INTO %I SELECT * FROM moved',
    parent || '_default', name) USING lower, upper;
  -- The check proves the range, so attaching skips scanning the new partition; then it is redundant.
  EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I CHECK (event_time >= %L AND event_time < %L)', name, name || '_range', lower, upper);
  EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', parent, name, lower, upper);
  EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', name, name || '_range');
  RETURN true;
END;
$$;

-- inbox_events becomes partitioned. No primary key: a unique index of a partitioned table must
-- include the partition key, and event_ids is what makes an id unique. Rows are copied, not lost:
-- every id is in event_ids, every row in its month's partition.
ALTER TABLE inbox_events RENAME TO inbox_events_unpartitioned;
ALTER INDEX inbox_events_subject_time_idx RENAME TO inbox_events_unpartitioned_subject_time_idx;
CREATE TABLE inbox_events (
  event_id         text NOT NULL CHECK (length(event_id) BETWEEN 1 AND 128),
  type             text NOT NULL,
  source           text NOT NULL,
  subject          text NOT NULL CHECK (length(subject) BETWEEN 1 AND 128),
  event_time       timestamptz NOT NULL,
  data             jsonb NOT NULL,
  topic            text NOT NULL,
  kafka_partition  integer NOT NULL,
  kafka_offset     bigint NOT NULL,
  received_at      timestamptz NOT NULL DEFAULT now()
) PARTITION BY RANGE (event_time);
CREATE TABLE inbox_events_default PARTITION OF inbox_events DEFAULT;
CREATE INDEX inbox_events_subject_time_idx ON inbox_events (subject, event_time);
SELECT lifecycle_month_partition('inbox_events', m)
  FROM (SELECT DISTINCT date_trunc('month', event_time AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS m FROM inbox_events_unpartitioned
        UNION SELECT now() + make_interval(months => n) FROM generate_series(0, 2) AS n) months;
INSERT INTO event_ids (event_key, recorded_at) SELECT md5(event_id)::uuid, received_at FROM inbox_events_unpartitioned;
INSERT INTO inbox_events SELECT event_id, type, source, subject, event_time, data, topic, kafka_partition, kafka_offset, received_at FROM inbox_events_unpartitioned;
DROP TABLE inbox_events_unpartitioned;

-- stage_transitions: the product's record, kept, but by month so reads of recent changes touch
-- recent partitions. An identity column cannot be declared on a partitioned table before
-- Postgres 17: a sequence gives the ids, continuing the old ones.
ALTER TABLE stage_transitions RENAME TO stage_transitions_unpartitioned;
ALTER INDEX stage_transitions_customer_idx RENAME TO stage_transitions_unpartitioned_customer_idx;
ALTER INDEX stage_transitions_time_idx RENAME TO stage_transitions_unpartitioned_time_idx;
ALTER TABLE stage_transitions_unpartitioned RENAME CONSTRAINT stage_transitions_pkey TO stage_transitions_unpartitioned_pkey;
CREATE SEQUENCE stage_transition_ids AS bigint;
SELECT setval('stage_transition_ids', coalesce((SELECT max(id) FROM stage_transitions_unpartitioned), 0) + 1, false);
CREATE TABLE stage_transitions (
  id            bigint NOT NULL DEFAULT nextval('stage_transition_ids'),
  customer_id   text NOT NULL,
  from_stage    text,
  to_stage      text NOT NULL,
  reason        text NOT NULL,
  event_time    timestamptz NOT NULL,
  recorded_at   timestamptz NOT NULL DEFAULT now(),
  clv_snapshot  jsonb NOT NULL,
  PRIMARY KEY (id, event_time)
) PARTITION BY RANGE (event_time);
ALTER SEQUENCE stage_transition_ids OWNED BY stage_transitions.id;
CREATE TABLE stage_transitions_default PARTITION OF stage_transitions DEFAULT;
CREATE INDEX stage_transitions_customer_idx ON stage_transitions (customer_id, id);
CREATE INDEX stage_transitions_time_idx ON stage_transitions (event_time);
SELECT lifecycle_month_partition('stage_transitions', m)
  FROM (SELECT DISTINCT date_trunc('month', event_time AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS m FROM stage_transitions_unpartitioned
        UNION SELECT now() + make_interval(months => n) FROM generate_series(0, 2) AS n) months;
INSERT INTO stage_transitions (id, customer_id, from_stage, to_stage, reason, event_time, recorded_at, clv_snapshot)
  SELECT id, customer_id, from_stage, to_stage, reason, event_time, recorded_at, clv_snapshot FROM stage_transitions_unpartitioned;
DROP TABLE stage_transitions_unpartitioned;

-- 3. A follow-up's due time goes with its outcome: the uplift's purchase window starts there, and
--    the published outbox row it was read from is deleted after a grace period now.
ALTER TABLE job_outcomes ADD COLUMN due_at timestamptz;
UPDATE job_outcomes j SET due_at = coalesce(o.due_at, (o.payload->>'dueAt')::timestamptz)
  FROM outbox o WHERE o.dedupe_key = j.job_id AND o.kind = 'follow-up';
-- Outcomes leave by age (JOB_OUTCOME_RETENTION_DAYS), published outbox rows by publish time.
CREATE INDEX job_outcomes_finished_idx ON job_outcomes (finished_at);
CREATE INDEX outbox_published_idx ON outbox (published_at) WHERE published_at IS NOT NULL;

-- What each retention run made and removed, for operators (the logs and metrics say it too).
CREATE TABLE retention_runs (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  started_at   timestamptz NOT NULL,
  finished_at  timestamptz NOT NULL DEFAULT now(),
  removed      jsonb NOT NULL
);

-- Down Migration

DROP TABLE retention_runs;
DROP INDEX outbox_published_idx;
DROP INDEX job_outcomes_finished_idx;
ALTER TABLE job_outcomes DROP COLUMN due_at;

CREATE TABLE stage_transitions_unpartitioned (
  id            bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  customer_id   text NOT NULL,
  from_stage    text,
  to_stage      text NOT NULL,
  reason        text NOT NULL,
  event_time    timestamptz NOT NULL,
  recorded_at   timestamptz NOT NULL DEFAULT now(),
  clv_snapshot  jsonb NOT NULL
);
INSERT INTO stage_transitions_unpartitioned SELECT id, customer_id, from_stage, to_stage, reason, event_time, recorded_at, clv_snapshot FROM stage_transitions;
SELECT setval(pg_get_serial_sequence('stage_transitions_unpartitioned', 'id'), coalesce((SELECT max(id) FROM stage_transitions), 0) + 1, false);
DROP TABLE stage_transitions;
ALTER TABLE stage_transitions_unpartitioned RENAME TO stage_transitions;
ALTER TABLE stage_transitions RENAME CONSTRAINT stage_transitions_unpartitioned_pkey TO stage_transitions_pkey;
ALTER TABLE stage_transitions ALTER COLUMN id SET GENERATED ALWAYS;
CREATE INDEX stage_transitions_customer_idx ON stage_transitions (customer_id, id);
CREATE INDEX stage_transitions_time_idx ON stage_transitions (event_time);

-- Payloads already dropped by retention are not brought back; their ids are, as far as event_ids has them.
CREATE TABLE inbox_events_unpartitioned (LIKE inbox_events INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
INSERT INTO inbox_events_unpartitioned SELECT DISTINCT ON (event_id) * FROM inbox_events ORDER BY event_id, received_at;
DROP TABLE inbox_events;
ALTER TABLE inbox_events_unpartitioned RENAME TO inbox_events;
ALTER TABLE inbox_events ADD PRIMARY KEY (event_id);
CREATE INDEX inbox_events_subject_time_idx ON inbox_events (subject, event_time);
DROP TABLE event_ids;
DROP FUNCTION lifecycle_month_partition(text, timestamptz);
