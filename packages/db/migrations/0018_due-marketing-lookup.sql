-- Up Migration

-- Priority among a customer's marketing follow-ups due together (the frequency cap) must not
-- depend on which of their jobs a worker happens to pick up first: a low-priority job that
-- reaches its decision before a higher one has even been queued would take the last slot. The
-- worker now also counts the customer's follow-ups the outbox says are due and not yet decided
-- (services/worker/src/jobs/delivery-context.ts); this index finds them by customer. The customer
-- is the third part of the job id (fu|playbook|customer|trigger, each part URI-encoded).
CREATE INDEX outbox_follow_up_customer_idx ON outbox ((split_part(dedupe_key, '|', 3)), due_at)
  WHERE kind = 'follow-up';

-- Down Migration
DROP INDEX outbox_follow_up_customer_idx;
