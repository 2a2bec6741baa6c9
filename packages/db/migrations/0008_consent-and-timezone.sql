-- Up Migration

-- Consent per customer and channel (issue 11), from customer.consent.updated events. One row per
-- (customer, channel): the latest event by (event time, event id) wins, in whatever order events
-- arrive. `suppressed` (a hard bounce, a complaint) stops every message on the channel;
-- `withdrawn` stops marketing; `granted` allows marketing under an opt-in regime.
CREATE TABLE customer_consents (
  customer_id text NOT NULL REFERENCES customers (customer_id),
  channel     text NOT NULL CHECK (channel IN ('email', 'webhook')),
  status      text NOT NULL CHECK (status IN ('granted', 'withdrawn', 'suppressed')),
  source      text NOT NULL,
  event_time  timestamptz NOT NULL,
  event_id    text NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (customer_id, channel)
);

-- The customer's IANA time zone (customer.registered `timezone`): quiet hours and birthdays follow it.
ALTER TABLE customers ADD COLUMN timezone text;

-- Down Migration
ALTER TABLE customers DROP COLUMN timezone;
DROP TABLE customer_consents;
