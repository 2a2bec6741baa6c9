-- Up Migration

-- One historical CLV (issue 13): (revenue − refunds) × CLV_MARGIN, in whole cents.
--
-- The generated column computed revenue − refunded while the engine multiplied by the margin, so
-- with a margin other than 1 the API (the column) and the stage-changed event (the engine) gave
-- two numbers. The margin is a setting of the engine, not a constant a generated column could
-- hold, so the column becomes a plain one that the engine writes with each evaluation, in the
-- transaction that writes revenue and refunded (every change to them is evaluated) and the
-- stage-changed event's snapshot, from the same computed value (historicalClvCents). Every reader
-- (API, measures, alerts, follow-ups) reads the column and needs no margin of its own, as they
-- already do for predicted_clv, which carries the margin too. The other way, a shared SQL
-- expression margin × (revenue − refunded), would make every query and every service (the
-- worker's follow-up texts too) take the margin as a parameter, and the event computed in JS
-- could still differ from SQL's rounding in the last cent.
--
-- A changed CLV_MARGIN reaches a customer at its next evaluation; the next accepted refit
-- re-evaluates every customer. Until then the rows keep revenue − refunded, the margin-1 value the generated
-- column held.
ALTER TABLE customers DROP COLUMN historical_clv;
ALTER TABLE customers ADD COLUMN historical_clv numeric NOT NULL DEFAULT 0;
UPDATE customers SET historical_clv = round(revenue - refunded, 2) WHERE revenue <> 0 OR refunded <> 0;

-- The simple CLV's lifespan and where it came from: 1 ÷ the measured annual churn rate when there
-- is a year of history ('churn'), else CLV_LIFESPAN_YEARS ('setting'). Null without a purchase.
ALTER TABLE customers
  ADD COLUMN clv_lifespan_years double precision,
  ADD COLUMN clv_lifespan_source text CHECK (clv_lifespan_source IN ('churn', 'setting'));

-- The base's churn over the year before the clock, measured by the sweep (at most daily, in clock
-- time) with the churn measure's definition; each evaluation reads the newest row. A table and not
-- a query per evaluation: the measure scans a year of stage changes, the hot path must not.
CREATE TABLE annual_churn (
  id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  measured_at      timestamptz NOT NULL,          -- the clock: the year is [measured_at − 1 year, measured_at)
  active_at_start  integer NOT NULL CHECK (active_at_start >= 0),
  lost             integer NOT NULL CHECK (lost >= 0),
  annual_rate      double precision CHECK (annual_rate BETWEEN 0 AND 1), -- null when nobody was active at the start
  history_days     double precision NOT NULL,     -- from the first stage change on record to measured_at
  recorded_at      timestamptz NOT NULL DEFAULT now()
);

-- Down Migration
DROP TABLE annual_churn;
ALTER TABLE customers DROP COLUMN clv_lifespan_source, DROP COLUMN clv_lifespan_years;
ALTER TABLE customers DROP COLUMN historical_clv;
ALTER TABLE customers ADD COLUMN historical_clv numeric GENERATED ALWAYS AS (revenue - refunded) STORED;
