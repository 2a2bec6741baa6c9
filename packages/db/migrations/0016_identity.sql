-- Up Migration

-- Identity resolution (issue 14): one customer, several ids.
--
-- `identity_links` is the identity graph as the events stated it: one row per id a
-- customer.identified event linked to its subject, or a customer.merged event merged into its
-- survivor. It only grows, so the graph, and the canonical id of each connected set of ids chosen
-- from it, are the same whatever order the events arrived in (packages/domain/src/identity).
CREATE TABLE identity_links (
  event_id    text NOT NULL,
  kind        text NOT NULL CHECK (kind IN ('identified', 'merged')),
  -- The identified subject, or the merge's survivor.
  anchor_id   text NOT NULL,
  -- An id the event linked to it (an external id, or a merged customer id).
  linked_id   text NOT NULL,
  event_time  timestamptz NOT NULL,
  PRIMARY KEY (event_id, linked_id)
);
CREATE INDEX identity_links_anchor_idx ON identity_links (anchor_id);
CREATE INDEX identity_links_linked_idx ON identity_links (linked_id);

-- Every id that is not its set's canonical id points to the one that is: ingest applies an event
-- for `alias_id` to `customer_id`, and the API answers for it with a pointer (`mergedInto`).
-- Canonical ids have no row here, so the hot path's lookup finds nothing for most subjects.
CREATE TABLE customer_aliases (
  alias_id    text PRIMARY KEY,
  customer_id text NOT NULL CHECK (customer_id <> alias_id),
  -- Wall time of the merge or identification that made it point there.
  merged_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX customer_aliases_customer_idx ON customer_aliases (customer_id);

-- After a merge, two follow-ups queued for the merged profiles may be the same one (two
-- thank-yous for one first purchase): the first job to reach the survivor's (playbook, trigger)
-- claims it, and the others are skipped as duplicates (services/worker follow-up-claim.ts).
CREATE TABLE follow_up_claims (
  customer_id text NOT NULL,
  playbook    text NOT NULL,
  trigger     text NOT NULL,
  job_id      text NOT NULL,
  claimed_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (customer_id, playbook, trigger)
);

-- Down Migration
DROP TABLE follow_up_claims;
DROP TABLE customer_aliases;
DROP TABLE identity_links;
