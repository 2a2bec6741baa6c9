-- Up Migration

-- The customer's language, a BCP 47 tag (customer.registered `locale`): follow-up templates are
-- chosen by it (de-AT, then de, then DEFAULT_LOCALE). NULL: the default locale.
ALTER TABLE customers ADD COLUMN locale text;

-- Down Migration
ALTER TABLE customers DROP COLUMN locale;
