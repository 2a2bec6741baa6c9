-- Up Migration

-- An amount in the base currency is the event's amount (at most 10 integer digits, bounded by the
-- decoder) times a configured rate (at most 1,000,000: a base such as IDR or VND has rates in the
-- tens of thousands). The product can exceed numeric(18, 4), so the column loses its cap, as the
-- per-customer sums did in 0006; a batch can no longer fail on it. Dropping a typmod rewrites nothing.
ALTER TABLE orders ALTER COLUMN amount_base TYPE numeric;
ALTER TABLE refunds ALTER COLUMN amount_base TYPE numeric;

-- Down Migration
ALTER TABLE refunds ALTER COLUMN amount_base TYPE numeric(18, 4);
ALTER TABLE orders ALTER COLUMN amount_base TYPE numeric(18, 4);
