-- Up Migration

-- Making a month's partition while an ingest transaction wrote rows of that month to the default
-- partition (a backfill of history) failed: the maker moved the rows it could see, then attaching
-- found the rows committed since ("updated partition constraint for default partition … would be
-- violated by some row") and the whole retention run failed; a long backfill could fail it run
-- after run. The maker now locks the default partition against inserts before it moves the rows.
CREATE OR REPLACE FUNCTION lifecycle_month_partition(parent text, month timestamptz) RETURNS boolean
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
  -- No row of the month may reach the default partition between the move and the attach: a lock
  -- that conflicts with inserts waits for the transactions writing there to commit, and holds new
  -- ones back until this one ends (what a backfill routes to the default partition waits that long).
  EXECUTE format('LOCK TABLE %I IN SHARE ROW EXCLUSIVE MODE', parent || '_default');
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

-- Down Migration
CREATE OR REPLACE FUNCTION lifecycle_month_partition(parent text, month timestamptz) RETURNS boolean
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
