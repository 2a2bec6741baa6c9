-- Up Migration

-- API keys: the id is public (it prefixes the key), the secret is stored only as its SHA-256.
-- Keys are 256-bit random secrets, so a fast hash is enough (as GitHub and Stripe tokens).
CREATE TABLE api_keys (
  id            text PRIMARY KEY,
  name          text NOT NULL,
  secret_hash   text NOT NULL,
  scopes        text[] NOT NULL CHECK (cardinality(scopes) > 0 AND scopes <@ ARRAY['read', 'ingest', 'admin']),
  created_at    timestamptz NOT NULL DEFAULT now(),
  last_used_at  timestamptz,
  revoked_at    timestamptz
);

-- Down Migration
DROP TABLE api_keys;
