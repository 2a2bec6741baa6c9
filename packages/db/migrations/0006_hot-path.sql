-- Up Migration

-- The watermark clock, one row per input partition instead of one row for the whole service:
-- every ingest transaction of the replay clock used to update the same row and so waited for
-- every other one to commit. Each partition now moves its own row; the clock is their maximum.
CREATE TABLE lifecycle_watermarks (
  slot       text PRIMARY KEY,           -- "<topic>:<partition>", or "migrated" for the old row
  watermark  timestamptz NOT NULL
);
INSERT INTO lifecycle_watermarks (slot, watermark) SELECT 'migrated', watermark FROM lifecycle_clock;
DROP TABLE lifecycle_clock;

-- Follow-ups wait in Postgres until they are nearly due (the relay moves them into BullMQ
-- within a short horizon), so Redis holds near-due work and not a year of birthdays.
-- A row that cannot be parsed or published is marked failed with its error and skipped.
ALTER TABLE outbox
  ADD COLUMN due_at     timestamptz,      -- follow-ups: when the job may run; null: publish at once
  ADD COLUMN failed_at  timestamptz;      -- given up on (last_error says why); never claimed again
UPDATE outbox SET due_at = (payload->>'dueAt')::timestamptz WHERE kind = 'follow-up' AND published_at IS NULL;
-- What the relay claims: stage changes in id order, follow-ups by due time.
DROP INDEX outbox_unpublished_idx;
CREATE INDEX outbox_pending_stage_changes_idx ON outbox (id) WHERE published_at IS NULL AND failed_at IS NULL AND due_at IS NULL;
CREATE INDEX outbox_pending_follow_ups_idx ON outbox (due_at, id) WHERE published_at IS NULL AND failed_at IS NULL AND due_at IS NOT NULL;

-- A follow-up already expired when its trigger is recorded (a backfill of history) is recorded
-- as skipped without ever being queued: 0 attempts.
ALTER TABLE job_outcomes DROP CONSTRAINT job_outcomes_attempts_check;
ALTER TABLE job_outcomes ADD CONSTRAINT job_outcomes_attempts_check CHECK (attempts >= 0);

-- Sums and model outputs without a precision cap: a sum of bounded amounts, or a prediction
-- from a float, can no longer overflow its column and stall ingestion. Dropping a numeric
-- typmod rewrites nothing; the generated column has to be dropped and added again around it.
ALTER TABLE customers DROP COLUMN historical_clv;
ALTER TABLE customers
  ALTER COLUMN revenue TYPE numeric,
  ALTER COLUMN refunded TYPE numeric,
  ALTER COLUMN repeat_day_spend_mean TYPE numeric,
  ALTER COLUMN expected_spend TYPE numeric,
  ALTER COLUMN predicted_clv TYPE numeric,
  ALTER COLUMN simple_clv TYPE numeric,
  ALTER COLUMN profit_clv TYPE numeric,
  ADD COLUMN historical_clv numeric GENERATED ALWAYS AS (revenue - refunded) STORED;

-- Down Migration
ALTER TABLE customers DROP COLUMN historical_clv;
ALTER TABLE customers
  ALTER COLUMN revenue TYPE numeric(18, 4),
  ALTER COLUMN refunded TYPE numeric(18, 4),
  ALTER COLUMN repeat_day_spend_mean TYPE numeric(18, 4),
  ALTER COLUMN expected_spend TYPE numeric(18, 4),
  ALTER COLUMN predicted_clv TYPE numeric(18, 4),
  ALTER COLUMN simple_clv TYPE numeric(18, 4),
  ALTER COLUMN profit_clv TYPE numeric(18, 4),
  ADD COLUMN historical_clv numeric(18, 4) GENERATED ALWAYS AS (revenue - refunded) STORED;
ALTER TABLE job_outcomes DROP CONSTRAINT job_outcomes_attempts_check;
ALTER TABLE job_outcomes ADD CONSTRAINT job_outcomes_attempts_check CHECK (attempts >= 1);
DROP INDEX outbox_pending_follow_ups_idx;
DROP INDEX outbox_pending_stage_changes_idx;
CREATE INDEX outbox_unpublished_idx ON outbox (id) WHERE published_at IS NULL;
ALTER TABLE outbox DROP COLUMN failed_at, DROP COLUMN due_at;
CREATE TABLE lifecycle_clock (
  singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  watermark  timestamptz NOT NULL
);
INSERT INTO lifecycle_clock (singleton, watermark) SELECT true, max(watermark) FROM lifecycle_watermarks HAVING count(*) > 0;
DROP TABLE lifecycle_watermarks;
