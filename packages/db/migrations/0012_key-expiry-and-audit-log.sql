-- Up Migration

-- API keys can expire (issue 12): a key past `expires_at` is refused like a revoked one. Rotation
-- makes a new key and gives the old one an expiry a little later (the overlap), recording which
-- key replaced it.
ALTER TABLE api_keys ADD COLUMN expires_at timestamptz;
ALTER TABLE api_keys ADD COLUMN replaced_by text REFERENCES api_keys (id);

-- Who did what, for the actions an operator answers for: keys made, rotated or revoked, customers
-- erased, consent changed through the API, jobs retried or removed on the queue board. `actor` is
-- `key:<id>` (the API) or `cli:<user>` (npm run keys); `subject` the key, customer or job; no
-- personal data in `details`. Append-only: nothing updates or deletes rows here.
CREATE TABLE audit_log (
  id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at       timestamptz NOT NULL DEFAULT now(),
  actor    text NOT NULL,
  action   text NOT NULL,
  subject  text,
  details  jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX audit_log_recent_idx ON audit_log (id DESC);

-- Down Migration
DROP TABLE audit_log;
ALTER TABLE api_keys DROP COLUMN replaced_by;
ALTER TABLE api_keys DROP COLUMN expires_at;
