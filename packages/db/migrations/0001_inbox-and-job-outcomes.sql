-- Up Migration

-- Every accepted event, once. The CloudEvents `id` is the idempotency key: a re-sent event
-- hits the primary key and changes nothing. Kafka coordinates are kept for tracing.
CREATE TABLE inbox_events (
  event_id         text PRIMARY KEY CHECK (length(event_id) BETWEEN 1 AND 128),
  type             text NOT NULL,
  source           text NOT NULL,
  subject          text NOT NULL CHECK (length(subject) BETWEEN 1 AND 128),
  event_time       timestamptz NOT NULL,
  data             jsonb NOT NULL,
  topic            text NOT NULL,
  kafka_partition  integer NOT NULL,
  kafka_offset     bigint NOT NULL,
  received_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX inbox_events_subject_time_idx ON inbox_events (subject, event_time);

-- The outcome of every follow-up job, kept so it can be shown per customer.
CREATE TABLE job_outcomes (
  job_id       text PRIMARY KEY,
  queue        text NOT NULL,
  job_name     text NOT NULL,
  customer_id  text NOT NULL,
  status       text NOT NULL CHECK (status IN ('sent', 'skipped', 'failed')),
  detail       text,
  attempts     integer NOT NULL CHECK (attempts >= 1),
  finished_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX job_outcomes_customer_idx ON job_outcomes (customer_id, finished_at);

-- Down Migration
DROP TABLE job_outcomes;
DROP TABLE inbox_events;
