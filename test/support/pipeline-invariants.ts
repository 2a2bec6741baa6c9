// What must hold after any run of the ingest pipeline, however often its processes were killed:
// stage changes on their topic under one id each, follow-ups in BullMQ exactly as the outbox
// published them, stage histories that form one chain. Shared by the multi-replica tests.
import type { JobType } from "bullmq";
import type { Kafka } from "kafkajs";
import type { Queryable } from "@lifecycle/db";
import { StageChanged, followUpJobId, type PlaybookName } from "@lifecycle/events";
import type { FollowUpQueues } from "@lifecycle/queue";
import { readWholeTopic } from "@lifecycle/testkit";

/** The follow-up a transition to each stage triggers. */
export const STAGE_PLAYBOOKS: Partial<Record<string, PlaybookName>> = {
  "at-risk": "win-back-at-risk",
  churned: "win-back-churned",
  repeat: "cross-sell",
};

/**
 * The stage-changed topic against the recorded transitions of the customers under `prefix`:
 * `missing` and `unexpected` ids (both empty when each transition is on the topic), and the ids
 * re-sent with a different message (a re-send must repeat the same event under the same key).
 */
export async function stageTopicAgainstTransitions(db: Queryable, kafka: Kafka, topic: string, prefix: string) {
  const transitions = await db.query<{ id: number }>("SELECT id FROM stage_transitions WHERE customer_id LIKE $1", [`${prefix}%`]);
  const expected = new Set(transitions.rows.map((t) => `stage-changed-${t.id}`));
  const first = new Map<string, string>();
  const changedOnResend: string[] = [];
  for (const m of await readWholeTopic(kafka, topic, 120_000)) {
    const event = StageChanged.parse(JSON.parse(m.value?.toString() ?? "null"));
    const message = JSON.stringify({ key: m.key, event });
    const seen = first.get(event.id);
    if (seen === undefined) first.set(event.id, message);
    else if (seen !== message) changedOnResend.push(event.id);
  }
  return {
    transitions: expected.size,
    missing: [...expected].filter((id) => !first.has(id)),
    unexpected: [...first.keys()].filter((id) => !expected.has(id)),
    changedOnResend,
  };
}

const JOB_STATES: JobType[] = ["wait", "prioritized", "delayed", "active", "completed", "failed", "waiting-children"];

/**
 * The id of every job in the follow-up queues, in whatever state, and how many entries the state
 * lists hold: more entries than ids would be a job listed twice.
 */
export async function followUpJobs(followUps: FollowUpQueues): Promise<{ ids: string[]; entries: number }> {
  const ids: string[] = [];
  let entries = 0;
  for (const queue of Object.values(followUps.queues)) {
    // Tens of thousands of ids: spread into push() they would overflow the call stack.
    for (const id of await queue.getRanges(JOB_STATES, 0, -1)) ids.push(id);
    entries += await queue.getJobCountByTypes(...JOB_STATES);
  }
  return { ids, entries };
}

/** Follow-up outbox rows of the customers under `prefix`: dedupe key, published, given up. */
export async function followUpRows(db: Queryable, prefix: string) {
  const r = await db.query<{ dedupe_key: string; published: boolean; failed: boolean }>(
    `SELECT dedupe_key, published_at IS NOT NULL AS published, failed_at IS NOT NULL AS failed
       FROM outbox WHERE kind = 'follow-up' AND payload->>'customerId' LIKE $1`,
    [`${prefix}%`],
  );
  return r.rows;
}

/** The job ids of the follow-ups the recorded stage transitions imply (win-backs, cross-sells). */
export async function stageFollowUpIds(db: Queryable, prefix: string): Promise<string[]> {
  const r = await db.query<{ customer_id: string; to_stage: string; event_time: Date }>(
    "SELECT customer_id, to_stage, event_time FROM stage_transitions WHERE customer_id LIKE $1",
    [`${prefix}%`],
  );
  return r.rows.flatMap((t) => {
    const playbook = STAGE_PLAYBOOKS[t.to_stage];
    return playbook ? [followUpJobId({ customerId: t.customer_id, playbook, trigger: `${t.to_stage}-${t.event_time.toISOString()}` })] : [];
  });
}

/** True for the dedupe key of a follow-up that a stage transition triggered. */
export const isStageTriggered = (key: string) => Object.values(STAGE_PLAYBOOKS).some((p) => key.startsWith(`fu|${p}|`));

/**
 * Customers whose recorded stage history is not one chain (each transition from the stage the
 * previous one went to, the last to the current stage): a transition lost or recorded twice.
 */
export async function brokenStageHistories(db: Queryable, prefix: string): Promise<string[]> {
  const r = await db.query<{ customer_id: string }>(
    `WITH t AS (SELECT customer_id, from_stage, to_stage, lag(to_stage) OVER w AS previous, row_number() OVER w AS n,
                       count(*) OVER (PARTITION BY customer_id) AS total
                  FROM stage_transitions WHERE customer_id LIKE $1 WINDOW w AS (PARTITION BY customer_id ORDER BY id))
     SELECT DISTINCT t.customer_id FROM t JOIN customers c USING (customer_id)
      WHERE (t.n > 1 AND t.previous IS DISTINCT FROM t.from_stage) OR (t.n = t.total AND t.to_stage IS DISTINCT FROM c.stage)`,
    [`${prefix}%`],
  );
  return r.rows.map((row) => row.customer_id);
}
