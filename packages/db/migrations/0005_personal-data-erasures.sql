-- Up Migration

-- Every personal-data erasure (DELETE /v1/customers/:id/personal-data), repeated calls included:
-- when, for which customer, by which API key, and how many rows each place had erased. The
-- customer id is kept here as everywhere else: it is the CRM's key, not personal data of ours.
-- No foreign keys: the record outlives revoked keys and must not stop a customer row's removal.
CREATE TABLE personal_data_erasures (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  customer_id  text NOT NULL CHECK (length(customer_id) BETWEEN 1 AND 128),
  api_key_id   text NOT NULL,
  erased_at    timestamptz NOT NULL DEFAULT now(),
  erased       jsonb NOT NULL                      -- rows changed per place, e.g. {"customers": 1, "inboxEvents": 2}
);
CREATE INDEX personal_data_erasures_customer_idx ON personal_data_erasures (customer_id, erased_at);

-- Down Migration
DROP TABLE personal_data_erasures;
