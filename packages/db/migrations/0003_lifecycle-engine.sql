-- Up Migration

-- The lifecycle engine: stages with their history, CLV (historical and predictive), the fitted
-- population models, the event-time watermark clock, and the explained health score.

ALTER TABLE customers
  -- Facts for the BG/NBD and Gamma-Gamma models (same-day purchases merged, UTC days).
  ADD COLUMN purchase_days          integer NOT NULL DEFAULT 0,       -- distinct days with a purchase
  ADD COLUMN repeat_day_spend_mean  numeric(18, 4) NOT NULL DEFAULT 0, -- z̄: mean of the repeat days' sums
  ADD COLUMN historical_clv         numeric(18, 4) GENERATED ALWAYS AS (revenue - refunded) STORED,
  -- Stage: derived from the facts and the clock; its history is in stage_transitions.
  ADD COLUMN stage                  text CHECK (stage IN ('prospect', 'new', 'repeat', 'at-risk', 'churned')),
  ADD COLUMN stage_reason           text,
  ADD COLUMN stage_since            timestamptz,
  ADD COLUMN stage_review_at        timestamptz,                      -- when the clock alone may change it
  -- Predictions at the last evaluation (they depend on the clock).
  ADD COLUMN p_alive                double precision,
  ADD COLUMN p_alive_below_at       timestamptz,
  ADD COLUMN expected_purchases     double precision,                 -- over the configured horizon
  ADD COLUMN expected_spend         numeric(18, 4),                   -- per purchase
  ADD COLUMN predicted_clv          numeric(18, 4),
  ADD COLUMN simple_clv             numeric(18, 4),
  ADD COLUMN profit_clv             numeric(18, 4),
  ADD COLUMN clv_cac_ratio          double precision,
  ADD COLUMN clv_model_id           bigint,
  ADD COLUMN health_score           smallint CHECK (health_score BETWEEN 0 AND 100),
  ADD COLUMN health_components      jsonb,
  ADD COLUMN evaluated_at           timestamptz;                      -- the clock's "now" at the last evaluation

CREATE INDEX customers_stage_review_idx ON customers (stage_review_at) WHERE stage_review_at IS NOT NULL;
CREATE INDEX customers_stage_idx ON customers (stage, customer_id);

-- Every stage change, as HubSpot keeps stage history: from, to, why, and when (event time, and
-- when it was recorded). The outbox row announcing it is written in the same transaction.
CREATE TABLE stage_transitions (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  customer_id   text NOT NULL,
  from_stage    text,
  to_stage      text NOT NULL,
  reason        text NOT NULL,
  event_time    timestamptz NOT NULL,
  recorded_at   timestamptz NOT NULL DEFAULT now(),
  clv_snapshot  jsonb NOT NULL
);
CREATE INDEX stage_transitions_customer_idx ON stage_transitions (customer_id, id);
CREATE INDEX stage_transitions_time_idx ON stage_transitions (event_time);

-- Fitted population models (BG/NBD, Gamma-Gamma), newest last. Per-customer values use the
-- newest of each kind.
CREATE TABLE clv_models (
  id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  kind             text NOT NULL CHECK (kind IN ('bgnbd', 'gamma-gamma')),
  params           jsonb NOT NULL,
  log_likelihood   double precision NOT NULL,
  sample_size      integer NOT NULL,
  iterations       integer NOT NULL,
  converged        boolean NOT NULL,
  time_unit_days   double precision NOT NULL,            -- 7: the model's time unit is weeks
  calibration_end  timestamptz NOT NULL,                 -- the clock when fitted
  fitted_at        timestamptz NOT NULL DEFAULT now(),
  duration_ms      integer NOT NULL
);
CREATE INDEX clv_models_kind_idx ON clv_models (kind, id DESC);

-- Customers recorded before this migration: derive their purchase-day facts now, and mark them
-- due so the first stage sweep evaluates them.
UPDATE customers c SET purchase_days = o.days,
       repeat_day_spend_mean = coalesce((o.total - o.first_day_sum) / nullif(o.days - 1, 0), 0)
  FROM (SELECT customer_id, count(*)::int AS days, sum(amount) AS total, (array_agg(amount ORDER BY day))[1] AS first_day_sum
          FROM (SELECT customer_id, (event_time AT TIME ZONE 'UTC')::date AS day, sum(amount_base) AS amount
                  FROM orders GROUP BY customer_id, day) d
         GROUP BY customer_id) o
 WHERE c.customer_id = o.customer_id;
UPDATE customers SET stage_review_at = '-infinity';

-- The event-time watermark: the latest event time seen. The "now" of the watermark clock.
CREATE TABLE lifecycle_clock (
  singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  watermark  timestamptz NOT NULL
);

-- Databases with events already: the watermark starts at the latest event time recorded.
INSERT INTO lifecycle_clock (singleton, watermark)
SELECT true, max(last_event_at) FROM customers HAVING max(last_event_at) IS NOT NULL;

-- Down Migration
DROP TABLE lifecycle_clock;
DROP TABLE clv_models;
DROP TABLE stage_transitions;
ALTER TABLE customers
  DROP COLUMN purchase_days, DROP COLUMN repeat_day_spend_mean, DROP COLUMN historical_clv,
  DROP COLUMN stage, DROP COLUMN stage_reason, DROP COLUMN stage_since, DROP COLUMN stage_review_at,
  DROP COLUMN p_alive, DROP COLUMN p_alive_below_at, DROP COLUMN expected_purchases, DROP COLUMN expected_spend,
  DROP COLUMN predicted_clv, DROP COLUMN simple_clv, DROP COLUMN profit_clv, DROP COLUMN clv_cac_ratio,
  DROP COLUMN clv_model_id, DROP COLUMN health_score, DROP COLUMN health_components, DROP COLUMN evaluated_at;
