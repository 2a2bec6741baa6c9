import type { Pool } from "@lifecycle/db";

/**
 * The baseline of "(b) unpartitioned": the schema as it is, but `inbox_events` and
 * `stage_transitions` as plain tables with the indexes their partitions have, so the same code
 * and run measure what partitioning costs the hot path (issue 15: no throughput loss). Dedupe is
 * `event_ids` in both. The worker's retention run fails on it (there are no partitions to make) and
 * is retried the next interval: that is only a log line in this phase.
 */
const UNPARTITION = `
BEGIN;
CREATE TABLE inbox_events_plain (LIKE inbox_events INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
DROP TABLE inbox_events;
ALTER TABLE inbox_events_plain RENAME TO inbox_events;
CREATE INDEX inbox_events_subject_time_idx ON inbox_events (subject, event_time);
CREATE TABLE stage_transitions_plain (LIKE stage_transitions INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
ALTER SEQUENCE stage_transition_ids OWNED BY stage_transitions_plain.id;
DROP TABLE stage_transitions;
ALTER TABLE stage_transitions_plain RENAME TO stage_transitions;
ALTER TABLE stage_transitions ADD PRIMARY KEY (id);
CREATE INDEX stage_transitions_customer_idx ON stage_transitions (customer_id, id);
CREATE INDEX stage_transitions_time_idx ON stage_transitions (event_time);
COMMIT;`;

export async function unpartition(pool: Pool): Promise<void> {
  await pool.query(UNPARTITION);
}
