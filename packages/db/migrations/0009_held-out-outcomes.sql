-- Up Migration

-- A follow-up for a customer in its playbook's control group is recorded, never sent (issue 11):
-- the outcome says so, and the uplift compares treated with held-out customers.
ALTER TABLE job_outcomes DROP CONSTRAINT job_outcomes_status_check;
ALTER TABLE job_outcomes ADD CONSTRAINT job_outcomes_status_check CHECK (status IN ('sent', 'skipped', 'failed', 'held-out'));

-- Down Migration
DELETE FROM job_outcomes WHERE status = 'held-out';
ALTER TABLE job_outcomes DROP CONSTRAINT job_outcomes_status_check;
ALTER TABLE job_outcomes ADD CONSTRAINT job_outcomes_status_check CHECK (status IN ('sent', 'skipped', 'failed'));
