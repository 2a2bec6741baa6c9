-- Up Migration

-- Per-customer state derived from events. Every merge below is order-independent: where two
-- events compete (two registrations, two versions of one order), the later or earlier *event
-- time* decides by a fixed rule, ties broken by event id, so the same set of events in any
-- arrival order, with duplicates, gives the same rows.

CREATE TABLE customers (
  customer_id          text PRIMARY KEY CHECK (length(customer_id) BETWEEN 1 AND 128),
  first_seen_at        timestamptz NOT NULL,          -- earliest event time of any event
  last_event_at        timestamptz NOT NULL,          -- latest event time of any event
  -- Profile: from the latest customer.registered (by event time, then event id).
  registered_at        timestamptz,                   -- earliest registration
  profile_event_time   timestamptz,
  profile_event_id     text,
  email                text,
  name                 text,
  acquisition_channel  text,
  acquisition_cost     numeric(18, 4),
  referred_by          text,
  birthday             date,
  -- Explicit churn: the latest customer.cancelled.
  cancelled_at         timestamptz,
  cancel_reason        text,
  cancel_event_id      text,
  -- Facts, recomputed from the tables below for the customers a batch touches.
  purchase_count       integer NOT NULL DEFAULT 0,
  first_purchase_at    timestamptz,
  last_purchase_at     timestamptz,
  revenue              numeric(18, 4) NOT NULL DEFAULT 0, -- base currency, before refunds
  refunded             numeric(18, 4) NOT NULL DEFAULT 0, -- base currency
  tickets_total        integer NOT NULL DEFAULT 0,
  open_tickets         integer NOT NULL DEFAULT 0,
  latest_nps           smallint,
  latest_nps_at        timestamptz,
  latest_csat          smallint,
  latest_csat_at       timestamptz,
  latest_ces           smallint,
  latest_ces_at        timestamptz,
  updated_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX customers_updated_idx ON customers (updated_at, customer_id);

-- One row per (customer, order). A re-sent order under a new event id does not count twice;
-- if versions differ, the earliest (event time, event id) is kept.
CREATE TABLE orders (
  customer_id    text NOT NULL,
  order_id       text NOT NULL,
  event_id       text NOT NULL,
  event_time     timestamptz NOT NULL,
  amount         numeric(18, 4) NOT NULL CHECK (amount >= 0),
  currency       char(3) NOT NULL,
  amount_base    numeric(18, 4) NOT NULL CHECK (amount_base >= 0),
  channel        text,
  referral_code  text,
  PRIMARY KEY (customer_id, order_id)
);
CREATE INDEX orders_time_idx ON orders (event_time);

-- Refunds may be partial and repeated: one row per refund event.
CREATE TABLE refunds (
  event_id     text PRIMARY KEY,
  customer_id  text NOT NULL,
  order_id     text NOT NULL,
  event_time   timestamptz NOT NULL,
  amount       numeric(18, 4) NOT NULL CHECK (amount >= 0),
  currency     char(3) NOT NULL,
  amount_base  numeric(18, 4) NOT NULL CHECK (amount_base >= 0)
);
CREATE INDEX refunds_customer_idx ON refunds (customer_id);

-- One row per ticket, merged from its events: earliest open and first response, latest
-- resolution and reopening, counts of responses and reopenings.
CREATE TABLE tickets (
  customer_id        text NOT NULL,
  ticket_id          text NOT NULL,
  opened_at          timestamptz,
  opened_event_id    text,
  channel            text,
  priority           text,
  first_response_at  timestamptz,
  first_response_event_id text,
  first_response_by  text,
  responses          integer NOT NULL DEFAULT 0,
  resolved_at        timestamptz,
  resolved_event_id  text,
  contacts           integer,
  reopened_count     integer NOT NULL DEFAULT 0,
  last_reopened_at   timestamptz,
  PRIMARY KEY (customer_id, ticket_id)
);
CREATE INDEX tickets_opened_idx ON tickets (opened_at);

CREATE TABLE survey_responses (
  event_id     text PRIMARY KEY,
  customer_id  text NOT NULL,
  kind         text NOT NULL CHECK (kind IN ('nps', 'csat', 'ces')),
  score        smallint NOT NULL,
  event_time   timestamptz NOT NULL,
  survey_id    text,
  order_id     text,
  ticket_id    text,
  comment      text
);
CREATE INDEX survey_responses_customer_idx ON survey_responses (customer_id, kind, event_time);
CREATE INDEX survey_responses_time_idx ON survey_responses (kind, event_time);

-- Transactional outbox: written in the same transaction as the state it announces, published
-- afterwards by a relay. `dedupe_key` makes a re-derived message a no-op.
CREATE TABLE outbox (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  kind          text NOT NULL,
  dedupe_key    text NOT NULL UNIQUE,
  payload       jsonb NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  published_at  timestamptz,
  attempts      integer NOT NULL DEFAULT 0,
  last_error    text
);
CREATE INDEX outbox_unpublished_idx ON outbox (id) WHERE published_at IS NULL;

-- Down Migration
DROP TABLE outbox;
DROP TABLE survey_responses;
DROP TABLE tickets;
DROP TABLE refunds;
DROP TABLE orders;
DROP TABLE customers;
