-- Up Migration

-- The marketing follow-ups of a customer being attempted right now, competing for the customer's
-- frequency cap (issue 11). A job enters when its attempt starts and leaves when it ends. The
-- worker decides under a per-customer advisory lock in a short transaction: another job still
-- deciding counts as due beside this one (priority says who goes first), and one that was let
-- through holds its slot (`holds_slot`) until its `sent` outcome counts instead. The send happens
-- after the commit, with nothing held; two workers cannot both take the last slot.
CREATE TABLE marketing_cap_claims (
  job_id      text PRIMARY KEY,
  customer_id text NOT NULL,
  priority    integer NOT NULL,
  due_at      timestamptz NOT NULL,
  holds_slot  boolean NOT NULL DEFAULT false,
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX marketing_cap_claims_customer ON marketing_cap_claims (customer_id);

-- Down Migration
DROP TABLE marketing_cap_claims;
