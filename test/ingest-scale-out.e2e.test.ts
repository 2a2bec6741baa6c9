import { fileURLToPath } from "node:url";
import type { Pool, Queryable } from "@lifecycle/db";
import { StageChanged, followUpJobId, syntheticEvents, type LifecycleEvent, type PlaybookName } from "@lifecycle/events";
import type { JobType } from "bullmq";
import type { Kafka } from "kafkajs";
import { createKafka, ensureTopics } from "@lifecycle/kafka";
import { applyEvents, createApplyDeps } from "@lifecycle/pipeline";
import { createFollowUpQueues, createRedisConnection, type FollowUpQueues } from "@lifecycle/queue";
import {
  consumerLag,
  countRecordedEvents,
  createTestLogger,
  describe,
  expect,
  produceEvents,
  readWholeTopic,
  startService,
  stateSnapshot,
  test,
  uniqueName,
  waitFor,
  type ServiceProcess,
} from "@lifecycle/testkit";

// Issue 9, scale-out done-when: two ingest replicas (each with its own outbox relay) share a
// 4-partition topic; they are SIGKILLed five times, alternately, while 50,000 events go through,
// and then every event is delivered again. The end state must be that of an uninterrupted run,
// every stage change must be on its topic and every follow-up in BullMQ, under one id each.
const INGEST_MAIN = fileURLToPath(new URL("../services/ingest/src/main.ts", import.meta.url));
const COUNT = 50_000;
/** Shares of the events recorded in the inbox at which a replica is killed. */
const KILL_AT = [0.1, 0.25, 0.4, 0.55, 0.7];
/**
 * The producer stays at most this many events ahead of the inbox: the replicas apply 50,000
 * events faster than one restarts, so with the whole stream produced at once the later kills
 * would land after the last event.
 */
const LEAD = 7_500;
/**
 * FOLLOW_UP_HORIZON_MS at the config's maximum (7 days): every follow-up of these events is due
 * within it (the latest, a cross-sell, 7 days after a transition no later than now), so all of
 * them move into BullMQ during the test.
 */
const HORIZON_MS = 7 * 86_400_000;
const PREFIX = "so-";
const REF_PREFIX = "ref-so-";
/** The follow-up a transition to each stage triggers. */
const STAGE_PLAYBOOKS: Partial<Record<string, PlaybookName>> = {
  "at-risk": "win-back-at-risk",
  churned: "win-back-churned",
  repeat: "cross-sell",
};
const logger = createTestLogger("scale-out");
// Live traffic from the last 20 hours: every follow-up is live (the earliest expiry, an escalation's,
// is 26 hours after its event) and none expires while the test runs. Over a longer window some
// follow-up would expire between the replicas' evaluation and the reference's (both at wall time),
// and the two runs would differ by the clock, not by a fault.
const end = new Date(Date.now() - 60_000);
const start = new Date(end.getTime() - 20 * 3_600_000);
const stream = (prefix: string): LifecycleEvent[] => [...syntheticEvents({ seed: 59, customers: 5_000, count: COUNT, start, end, prefix })];

/** The same events applied in-process, uninterrupted, in batches of 500. */
async function applyReference(pool: Pool, events: readonly LifecycleEvent[]) {
  const deps = createApplyDeps({ pool, rates: { USD: "1" } });
  for (let i = 0; i < events.length; i += 500) {
    await applyEvents(deps, events.slice(i, i + 500).map((event, j) => ({ event, topic: "ref", partition: 0, offset: i + j })));
  }
}

/** Produces `events` in chunks, each once the inbox has come within `LEAD` events of it. */
async function feedAhead({ kafka, topic, events, recorded, stopped }: {
  kafka: Kafka;
  topic: string;
  events: readonly LifecycleEvent[];
  recorded: () => Promise<number>;
  stopped: () => boolean;
}) {
  const chunk = 2_500;
  for (let i = 0; i < events.length && !stopped(); i += chunk) {
    const near = async () => (stopped() || (await recorded()) >= i - LEAD ? true : undefined);
    await waitFor(`the inbox to come within ${LEAD} events of event ${i}`, near, { intervalMs: 50, timeoutMs: 120_000 });
    if (stopped()) return;
    await produceEvents(kafka, topic, events.slice(i, i + chunk).map((e) => ({ key: e.subject, value: JSON.stringify(e) })));
  }
}

/**
 * Follow-up outbox rows of the customers under `prefix` that events trigger, counted by playbook.
 * The stage-triggered ones (win-backs, cross-sells) follow the observed stage history, which
 * depends on how events were batched (and on the wall clock) even in two uninterrupted runs:
 * those are checked against the run's own transitions instead.
 */
async function eventFollowUpsByPlaybook(db: Queryable, prefix: string): Promise<Record<string, number>> {
  const r = await db.query<{ playbook: string; n: number }>(
    `SELECT payload->>'playbook' AS playbook, count(*)::int AS n FROM outbox
      WHERE kind = 'follow-up' AND payload->>'customerId' LIKE $1 AND NOT payload->>'playbook' = ANY($2::text[]) GROUP BY 1 ORDER BY 1`,
    [`${prefix}%`, Object.values(STAGE_PLAYBOOKS)],
  );
  return Object.fromEntries(r.rows.map((row) => [row.playbook, row.n]));
}

/**
 * Customers whose recorded stage history is not one chain (each transition from the stage the
 * previous one went to, the last to the current stage): a transition lost or recorded twice.
 */
async function brokenStageHistories(db: Queryable, prefix: string): Promise<string[]> {
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

const JOB_STATES: JobType[] = ["wait", "prioritized", "delayed", "active", "completed", "failed", "waiting-children"];

/**
 * The id of every job in the follow-up queues, in whatever state, and how many entries the state
 * lists hold: more entries than ids would be a job listed twice.
 */
async function followUpJobs(followUps: FollowUpQueues): Promise<{ ids: string[]; entries: number }> {
  const ids: string[] = [];
  let entries = 0;
  for (const queue of Object.values(followUps.queues)) {
    ids.push(...(await queue.getRanges(JOB_STATES, 0, -1)));
    entries += await queue.getJobCountByTypes(...JOB_STATES);
  }
  return { ids, entries };
}

/** The job ids of the follow-ups the recorded stage transitions imply (win-backs, cross-sells). */
async function stageFollowUpIds(db: Queryable, prefix: string): Promise<string[]> {
  const r = await db.query<{ customer_id: string; to_stage: string; event_time: Date }>(
    "SELECT customer_id, to_stage, event_time FROM stage_transitions WHERE customer_id LIKE $1",
    [`${prefix}%`],
  );
  return r.rows.flatMap((t) => {
    const playbook = STAGE_PLAYBOOKS[t.to_stage];
    return playbook ? [followUpJobId({ customerId: t.customer_id, playbook, trigger: `${t.to_stage}-${t.event_time.toISOString()}` })] : [];
  });
}

describe("two ingest replicas, SIGKILLed five times during 50,000 events", { timeout: 300_000 }, () => {
  test("end in the uninterrupted state, with every stage change and follow-up published once under its id", async ({ infra, database }) => {
    const topic = uniqueName("so-in");
    const stageTopic = uniqueName("so-stages");
    const groupId = uniqueName("so-group");
    const queuePrefix = uniqueName("so-q");
    const kafka = createKafka({ brokers: infra.kafka.brokers, clientId: "scale-out", logger });
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, [{ topic, numPartitions: 4 }]);
    await admin.disconnect();
    const env = {
      ...process.env,
      DATABASE_URL: database.url,
      KAFKA_BROKERS: infra.kafka.brokers.join(","),
      REDIS_URL: infra.redis.url,
      QUEUE_PREFIX: queuePrefix,
      INPUT_TOPICS: topic,
      DLQ_TOPIC: uniqueName("so-dlq"),
      STAGE_CHANGED_TOPIC: stageTopic,
      INGEST_GROUP_ID: groupId,
      // The broker's minimum: a SIGKILLed member's partitions move after 6 s instead of 30 s.
      INGEST_SESSION_TIMEOUT_MS: "6000",
      FOLLOW_UP_HORIZON_MS: String(HORIZON_MS),
      // Two replicas on one machine: no probe server, so no port to share.
      PROBE_PORT: "-1",
      LOG_LEVEL: "info",
    };
    let started = 0;
    const logDir = fileURLToPath(new URL(`../.run/test-logs/${groupId}`, import.meta.url));
    const startReplica = () => startService({ name: `ingest-${++started}`, entry: INGEST_MAIN, env, logDir, readyMessage: "ingest running" });
    const recorded = () => countRecordedEvents(database.pool, PREFIX);
    const caughtUp = (what: string) => waitFor(what, async () => ((await consumerLag(kafka, groupId, topic)) === 0 ? true : undefined), { timeoutMs: 120_000 });

    const redis = createRedisConnection(infra.redis.url, "scale-out-test");
    const followUps = createFollowUpQueues({ connection: redis, prefix: queuePrefix });
    let replicas: ServiceProcess[] = [];
    let stopped = false;
    let feeding: Promise<void> | undefined;
    try {
      try {
        replicas = [await startReplica(), await startReplica()];
        feeding = feedAhead({ kafka, topic, events: stream(PREFIX), recorded, stopped: () => stopped });
        // Awaited below; a failure while the kills run must not go unhandled meanwhile.
        feeding.catch(() => undefined);
        for (const [k, share] of KILL_AT.entries()) {
          const reached = async () => ((await recorded()) >= share * COUNT ? true : undefined);
          await waitFor(`${share * 100}% of the events recorded`, reached, { intervalMs: 20, timeoutMs: 120_000 });
          const slot = k % 2;
          replicas[slot]?.child.kill("SIGKILL");
          // Counted after the kill: the replica left standing only adds to it.
          const atKill = await recorded();
          expect(atKill, `kill ${k + 1} must land before every event is applied`).toBeLessThan(COUNT);
          await replicas[slot]?.stop();
          replicas[slot] = await startReplica();
        }
        await feeding;
        await caughtUp("the group to catch up after the kills");

        // A kill rarely lands between a batch's database commit and its offset commit; force that
        // case for every event: rewind the group and let both replicas consume everything again.
        await Promise.all(replicas.map((r) => r.stop()));
        const rewind = kafka.admin();
        await rewind.connect();
        await rewind.resetOffsets({ groupId, topic, earliest: true });
        await rewind.disconnect();
        replicas = [await startReplica(), await startReplica()];
        await caughtUp("the redelivered stream to be consumed");
        await waitFor("the relays to publish every outbox row", async () => {
          const r = await database.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL AND failed_at IS NULL");
          return r.rows[0]?.n === 0 ? true : undefined;
        }, { timeoutMs: 60_000 });
      } finally {
        stopped = true;
        await feeding?.catch(() => undefined);
        await Promise.all(replicas.map((r) => r.stop()));
      }
      expect(await recorded()).toBe(COUNT);

      // Every stage change is on the topic under its stable id; a re-sent one is the same message.
      const transitions = await database.pool.query<{ id: number }>("SELECT id FROM stage_transitions WHERE customer_id LIKE $1", [`${PREFIX}%`]);
      expect(transitions.rows.length).toBeGreaterThan(0);
      const published = (await readWholeTopic(kafka, stageTopic)).map((m) => ({
        key: m.key,
        event: StageChanged.parse(JSON.parse(m.value?.toString() ?? "null")),
      }));
      expect(new Set(published.map((m) => m.event.id))).toEqual(new Set(transitions.rows.map((t) => `stage-changed-${t.id}`)));
      const firstById = new Map<string, (typeof published)[number]>();
      for (const m of published) {
        const first = firstById.get(m.event.id);
        if (first) expect(m, `a repeat of ${m.event.id} is the same message`).toEqual(first);
        else firstById.set(m.event.id, m);
      }

      // Every follow-up row is published, none given up, and BullMQ holds exactly their jobs, once.
      const rows = await database.pool.query<{ dedupe_key: string; published: boolean; failed: boolean }>(
        `SELECT dedupe_key, published_at IS NOT NULL AS published, failed_at IS NOT NULL AS failed
           FROM outbox WHERE kind = 'follow-up' AND payload->>'customerId' LIKE $1`,
        [`${PREFIX}%`],
      );
      expect(rows.rows.length).toBeGreaterThan(1_000);
      expect(rows.rows.filter((r) => !r.published || r.failed)).toEqual([]);
      const jobs = await followUpJobs(followUps);
      expect(jobs.entries, "each job listed once").toBe(jobs.ids.length);
      expect(jobs.ids.length, "each job in one queue").toBe(new Set(jobs.ids).size);
      expect(new Set(jobs.ids)).toEqual(new Set(rows.rows.map((r) => r.dedupe_key)));
      // The stage history is one chain per customer, and the win-backs and cross-sells are exactly
      // those its transitions trigger: a kill neither lost nor doubled a transition or its follow-up.
      expect(await brokenStageHistories(database.pool, PREFIX)).toEqual([]);
      const stageTriggered = (key: string) => Object.values(STAGE_PLAYBOOKS).some((p) => key.startsWith(`fu|${p}|`));
      const stageFollowUps = rows.rows.map((r) => r.dedupe_key).filter(stageTriggered);
      expect(new Set(stageFollowUps)).toEqual(new Set(await stageFollowUpIds(database.pool, PREFIX)));

      // The uninterrupted reference: the same facts, and as many event-triggered follow-ups of
      // each playbook (their dedupe keys are compared in the snapshot).
      await applyReference(database.pool, stream(REF_PREFIX));
      expect(await stateSnapshot(database.pool, PREFIX)).toEqual(await stateSnapshot(database.pool, REF_PREFIX));
      expect(await eventFollowUpsByPlaybook(database.pool, PREFIX)).toEqual(await eventFollowUpsByPlaybook(database.pool, REF_PREFIX));
      expect(await brokenStageHistories(database.pool, REF_PREFIX)).toEqual([]);
    } finally {
      await followUps.obliterate();
      await followUps.close();
      redis.disconnect();
    }
  });
});
