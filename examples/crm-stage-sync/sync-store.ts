// The CRM side's SQL: a table of each customer's current stage, and a ledger of the event ids
// already handled. Everything here runs inside the caller's transaction (one per Kafka batch).
import type pg from "pg";
import type { StageTopicEvent } from "@lifecycle/events";

// IF NOT EXISTS: the script creates its tables on every start, so a restart (or a second
// replica starting at the same time) never fails on "already exists".
const SCHEMA = `
CREATE TABLE IF NOT EXISTS crm_customer_stages (
  customer_id          text PRIMARY KEY,
  stage                text NOT NULL,
  reason               text NOT NULL,
  -- when the transition happened (the event's data.at), not when we received it
  stage_at             timestamptz NOT NULL,
  -- the event that set the row: its id, and the order number taken from it (null if it had none)
  last_event_id        text NOT NULL,
  last_transition_seq  bigint,
  -- distinct stage-change events received for this customer, applied or not: it stands for
  -- any once-per-event side effect a CRM runs (a task, a note) and shows duplicates are skipped
  transitions_seen     integer NOT NULL DEFAULT 0,
  updated_at           timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS crm_processed_events (
  event_id      text PRIMARY KEY,
  customer_id   text NOT NULL,
  processed_at  timestamptz NOT NULL DEFAULT now()
);`;

/** Creates the example's tables if they are missing. Safe to call on every start. */
export async function ensureCrmSchema(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    // Two replicas starting at once can still collide inside CREATE TABLE IF NOT EXISTS; the
    // transaction-scoped advisory lock makes the second wait for the first.
    await client.query("BEGIN");
    await client.query("SELECT pg_advisory_xact_lock(hashtext('crm_stage_sync_schema'))");
    await client.query(SCHEMA);
    await client.query("COMMIT");
  } catch (err) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/**
 * The order of a transition: the lifecycle service numbers them `stage-changed-<n>`, n growing
 * with each recorded transition. Null for an id without that shape (another producer); such an
 * event is ordered by `data.at` instead. Kept as a string: Postgres compares it as a bigint.
 */
export function transitionSeq(eventId: string): string | null {
  return /^stage-changed-(\d{1,18})$/.exec(eventId)?.[1] ?? null;
}

// Is the incoming event (`excluded`) newer than the stored row (`cur`)? By sequence number when
// both have one, else by the transition's time. A tie is not newer: the stored row stays.
const IS_NEWER = `(CASE WHEN excluded.last_transition_seq IS NOT NULL AND cur.last_transition_seq IS NOT NULL
  THEN excluded.last_transition_seq > cur.last_transition_seq
  ELSE excluded.stage_at > cur.stage_at END)`;

// Upsert that only moves forward. A delivery can be late (a redelivered batch, a relay that
// published an older transition after a newer one): an older event must not overwrite a newer
// stage. Every column is set from the event only when it is newer; the counter always grows.
const UPSERT_STAGE = `
INSERT INTO crm_customer_stages AS cur
  (customer_id, stage, reason, stage_at, last_event_id, last_transition_seq, transitions_seen, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, 1, now())
ON CONFLICT (customer_id) DO UPDATE SET
  stage               = CASE WHEN ${IS_NEWER} THEN excluded.stage ELSE cur.stage END,
  reason              = CASE WHEN ${IS_NEWER} THEN excluded.reason ELSE cur.reason END,
  stage_at            = CASE WHEN ${IS_NEWER} THEN excluded.stage_at ELSE cur.stage_at END,
  last_event_id       = CASE WHEN ${IS_NEWER} THEN excluded.last_event_id ELSE cur.last_event_id END,
  last_transition_seq = CASE WHEN ${IS_NEWER} THEN excluded.last_transition_seq ELSE cur.last_transition_seq END,
  transitions_seen    = cur.transitions_seen + 1,
  updated_at          = now()
RETURNING last_event_id = $5 AS applied`;

// `lifecycle.customer.erased`: the customer's personal data was erased in the lifecycle service, so
// the CRM erases its copy. Here that is the stage row; a real CRM deletes or anonymises its
// contact record the same way. The ledger keeps only event and customer ids, so it stays.
const ERASE_CUSTOMER = `DELETE FROM crm_customer_stages WHERE customer_id = $1`;
// A merged id is the survivor now: its own record goes (the survivor's stage arrives as its own event).
const DROP_MERGED = `DELETE FROM crm_customer_stages WHERE customer_id = ANY($1::text[])`;

export interface ApplyResult {
  /** Events that set a customer's stage. */
  applied: number;
  /** Events older than the stored stage: recorded as seen, stage unchanged. */
  stale: number;
  /** Event ids handled before (in an earlier batch or earlier in this one): skipped. */
  duplicates: number;
  /** Erasures (`lifecycle.customer.erased`): the customer's row deleted. */
  erased: number;
  /** Merges (`lifecycle.customer.merged`): the merged ids' rows deleted. */
  merged: number;
}

/**
 * Applies a batch of stage changes and erasures, in delivery order, on `client` (inside the caller's
 * transaction, so the ledger and the stages commit together or not at all).
 */
export async function applyStageChanges(client: pg.ClientBase, events: readonly StageTopicEvent[]): Promise<ApplyResult> {
  const result: ApplyResult = { applied: 0, stale: 0, duplicates: 0, erased: 0, merged: 0 };
  if (events.length === 0) return result;

  // The ledger first: ON CONFLICT DO NOTHING returns only the ids never seen before. Delivery is
  // at-least-once, so the same id can arrive twice (the producer re-sent it, or we crashed after
  // our commit and before the offset commit): the second time it is not in `fresh`.
  const { rows } = await client.query<{ event_id: string }>(
    `INSERT INTO crm_processed_events (event_id, customer_id)
     SELECT * FROM unnest($1::text[], $2::text[])
     ON CONFLICT (event_id) DO NOTHING
     RETURNING event_id`,
    [events.map((e) => e.id), events.map((e) => e.subject)],
  );
  const fresh = new Set(rows.map((r) => r.event_id));

  for (const e of events) {
    // delete() is true once per fresh id, so a duplicate inside this batch is skipped too.
    if (!fresh.delete(e.id)) {
      result.duplicates++;
      continue;
    }
    if (e.type === "lifecycle.customer.erased") {
      await client.query(ERASE_CUSTOMER, [e.subject]);
      result.erased++;
      continue;
    }
    if (e.type === "lifecycle.customer.merged") {
      await client.query(DROP_MERGED, [e.data.mergedIds]);
      result.merged++;
      continue;
    }
    const upserted = await client.query<{ applied: boolean }>(UPSERT_STAGE, [e.subject, e.data.to, e.data.reason, e.data.at, e.id, transitionSeq(e.id)]);
    if (upserted.rows[0]?.applied) result.applied++;
    else result.stale++;
  }
  return result;
}
