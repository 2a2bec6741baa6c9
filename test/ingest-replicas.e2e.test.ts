import { fileURLToPath } from "node:url";
import { Partitioners, type Kafka } from "kafkajs";
import { z } from "zod";
import type { Pool } from "@lifecycle/db";
import { syntheticEvents, type InputTopics, type LifecycleEvent } from "@lifecycle/events";
import { createEventPublisher, createKafka, ensureTopics } from "@lifecycle/kafka";
import { applyEvents, createApplyDeps } from "@lifecycle/pipeline";
import { createFollowUpQueues, createRedisConnection } from "@lifecycle/queue";
import {
  consumerLag,
  countRecordedEvents,
  createTestDatabase,
  createTestLogger,
  describe,
  expect,
  readWholeTopic,
  snapshotDifferences,
  startService,
  stateSnapshot,
  test,
  uniqueName,
  waitFor,
  type ServiceProcess,
} from "@lifecycle/testkit";
import { watchGroup } from "./support/replica-group.js";
import { brokenStageHistories, followUpJobs, followUpRows, isStageTriggered, stageFollowUpIds, stageTopicAgainstTransitions } from "./support/pipeline-invariants.js";
import { runLog } from "./support/run-log.js";

// Issue 10, point 5 (and issue 9's scale-out done-when before it): three ingest processes share
// the four input topics of 12 partitions each; while 200,000 events go through, one is SIGKILLed,
// another SIGTERMed, and a fresh one joins. One event in four is also delivered a second time, as
// a producer retrying or a redelivery after a kill would. The end state must be that of one
// uninterrupted run: each valid event recorded once, nothing counted twice in the facts, every
// stage change on its topic and every follow-up in BullMQ under its one id.
const INGEST_MAIN = fileURLToPath(new URL("../services/ingest/src/main.ts", import.meta.url));
const COUNT = 200_000;
const CUSTOMERS = 20_000;
const PARTITIONS = 12;
/** Events that fail validation: dead-lettered, never recorded. */
const INVALID = 200;
/** Share of the distinct events recorded at which a replica is SIGKILLed. */
const SIGKILL_AT = 0.15;
/**
 * The input goes out in three parts: the first before the replicas start, the second before the
 * SIGTERM, the last once the fresh replica has joined. Each kill and the join then meet work
 * still to do, however fast the replicas are.
 */
const PARTS = [0.5, 0.8, 1];
/**
 * FOLLOW_UP_HORIZON_MS at the config's maximum (7 days): every follow-up of these events is due
 * within it, so all of them move into BullMQ during the test.
 */
const HORIZON_MS = 7 * 86_400_000;
const PREFIX = "r10-";
const logger = createTestLogger("ingest-replicas");
// Live traffic from the last six hours: every follow-up is live (the earliest expiry is a day
// after its event) and none expires between the replicas' run and the reference's.
const end = new Date(Date.now() - 60_000);
const start = new Date(end.getTime() - 6 * 3_600_000);
const stream = (): LifecycleEvent[] => [...syntheticEvents({ seed: 10, customers: CUSTOMERS, count: COUNT, start, end, prefix: PREFIX })];

/** Purchases with an amount that is no number: the decoder rejects them. */
const invalidEvents = () =>
  Array.from({ length: INVALID }, (_, i) => ({
    specversion: "1.0", id: `${PREFIX}bad${i}`, source: "test", type: "purchase.completed", subject: `${PREFIX}c${i}`,
    time: end.toISOString(), data: { orderId: "o-bad", amount: "lots", currency: "USD" },
  }));

/** Every how many events one is sent a second time: a producer retrying, a redelivery after a kill. */
const RESEND_EVERY = 4;

/**
 * Everything the producers send, in order: the stream, every RESEND_EVERY-th event sent again
 * 10,000 events later, and the invalid events spread through.
 */
function deliveries(events: readonly LifecycleEvent[]): { type: string; subject: string }[] {
  const out: { type: string; subject: string }[] = [];
  const invalid = invalidEvents();
  const later = 10_000;
  const spread = Math.floor(events.length / INVALID);
  for (let i = 0; i < events.length + later; i++) {
    const event = events[i];
    if (event) out.push(event);
    const again = events[i - later];
    if (again && (i - later) % RESEND_EVERY === 0) out.push(again);
    const bad = i % spread === 0 ? invalid[i / spread] : undefined;
    if (bad) out.push(bad);
  }
  return out;
}

async function produceAll(kafka: Kafka, topics: InputTopics, messages: readonly { type: string; subject: string }[]) {
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
  await producer.connect();
  try {
    const publish = createEventPublisher({ producer, topics });
    for (let i = 0; i < messages.length; i += 5_000) await publish(messages.slice(i, i + 5_000));
  } finally {
    await producer.disconnect();
  }
}

const WithId = z.object({ id: z.string() });

/**
 * The one-process run: the same events applied in-process, uninterrupted, in batches of 2,000, to
 * a database of its own (the replicas' relays must not publish its outbox). Two transactions at a
 * time, as one ingest process runs them, each over its own half of the customers (every
 * customer's events in stream order).
 */
async function applyReference(pool: Pool, events: readonly LifecycleEvent[]) {
  const deps = createApplyDeps({ pool, rates: { USD: "1" } });
  const halves: LifecycleEvent[][] = [[], []];
  for (const e of events) halves[Number(e.subject.slice(PREFIX.length + 1)) % 2]?.push(e);
  await Promise.all(
    halves.map(async (half, h) => {
      for (let i = 0; i < half.length; i += 2_000) {
        await applyEvents(deps, half.slice(i, i + 2_000).map((event, j) => ({ event, topic: "ref", partition: h, offset: i + j })));
      }
    }),
  );
}

describe("three ingest replicas on 4 topics x 12 partitions, one SIGKILLed, one SIGTERMed, a fresh one joining", { timeout: 400_000 }, () => {
  test("200,000 events end in the one-process state, each recorded once, every stage change and follow-up under its id", async ({ infra, database }) => {
    const run = uniqueName("r10");
    const topics: InputTopics = { customer: `${run}-customer`, purchase: `${run}-purchase`, supportTicket: `${run}-ticket`, survey: `${run}-survey` };
    const inputTopics = Object.values(topics);
    const stageTopic = `${run}-stages`;
    const dlqTopic = `${run}-dlq`;
    const groupId = `${run}-group`;
    const queuePrefix = `${run}-q`;
    // Phases with their times, beside the processes' logs: where to look when it fails or slows.
    const { logDir, note } = runLog(run);
    const kafka = createKafka({ brokers: infra.kafka.brokers, clientId: run, logger });
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, inputTopics.map((topic) => ({ topic, numPartitions: PARTITIONS })));
    await admin.disconnect();

    let started = 0;
    const startReplica = () => {
      const name = `ingest-${++started}`;
      const env = {
        ...process.env,
        DATABASE_URL: database.url,
        KAFKA_BROKERS: infra.kafka.brokers.join(","),
        // Each process its own client id: the group's member list then says which one owns what.
        KAFKA_CLIENT_ID: `${run}-${name}`,
        REDIS_URL: infra.redis.url,
        QUEUE_PREFIX: queuePrefix,
        INPUT_TOPICS: inputTopics.join(","),
        DLQ_TOPIC: dlqTopic,
        STAGE_CHANGED_TOPIC: stageTopic,
        INGEST_GROUP_ID: groupId,
        TOPIC_PARTITIONS: String(PARTITIONS),
        // A SIGKILLed member's partitions move after 10 s instead of 30 s. (The broker's minimum,
        // 6 s, evicts members starved of CPU when the suite shares two cores.)
        INGEST_SESSION_TIMEOUT_MS: "10000",
        FOLLOW_UP_HORIZON_MS: String(HORIZON_MS),
        // Several replicas on one machine: no probe server, so no port to share.
        PROBE_PORT: "-1",
        LOG_LEVEL: "info",
      };
      return startService({ name, entry: INGEST_MAIN, env, logDir, readyMessage: "ingest running" });
    };
    const group = watchGroup({ kafka, groupId, topics: inputTopics, clientIdOf: (replica) => `${run}-${replica.name}-ingest` });
    const recordedReaches = (share: number) =>
      waitFor(`${share * 100} % of the events recorded`, async () => ((await countRecordedEvents(database.pool, PREFIX)) >= share * COUNT ? true : undefined), { timeoutMs: 180_000, intervalMs: 200 });

    const events = stream();
    // The reference runs beside the replicas: on two cores it would otherwise add minutes.
    const referenceDb = await createTestDatabase(infra.postgres.adminUrl);
    const reference = applyReference(referenceDb.pool, events).then(() => note("reference applied"));
    reference.catch(() => undefined); // awaited below; a failure meanwhile must not go unhandled
    const redis = createRedisConnection(infra.redis.url, "ingest-replicas-test");
    const followUps = createFollowUpQueues({ connection: redis, prefix: queuePrefix });
    const replicas = new Map<string, ServiceProcess>();
    try {
      try {
        // The input goes out in PARTS, never while the polling below runs: producing 250,000
        // messages would starve it of CPU and the kills would land late.
        const input = deliveries(events);
        const part = (k: number) => input.slice(Math.round((PARTS[k - 1] ?? 0) * input.length), Math.round((PARTS[k] ?? 1) * input.length));
        await produceAll(kafka, topics, part(0));
        note("the first part produced");
        for (const r of await Promise.all([startReplica(), startReplica(), startReplica()])) replicas.set(r.name, r);
        note("three replicas running");

        // A SIGKILL while the victim owns partitions with messages still to commit.
        await recordedReaches(SIGKILL_AT);
        const [first, second] = [...replicas.values()];
        if (!first || !second) throw new Error("three replicas were started");
        const killedOwned = await group.ownsPendingWork(first);
        first.child.kill("SIGKILL");
        await first.stop();
        replicas.delete(first.name);
        expect(first.child.signalCode).toBe("SIGKILL");
        note(`SIGKILLed ${first.name}, owner of ${killedOwned.partitions.length} partitions, at ${await countRecordedEvents(database.pool, PREFIX)} recorded`);

        // A SIGTERM, once the group has moved on without the SIGKILLed member: the replica finishes
        // the transactions it has begun, commits, leaves the group and exits 0.
        await group.dropped(first);
        await produceAll(kafka, topics, part(1));
        const termOwned = await group.ownsPendingWork(second);
        const termAt = Date.now();
        await second.stop();
        replicas.delete(second.name);
        expect(second.child.signalCode, `${second.name} must exit by itself, not by the SIGKILL after 20 s`).toBeNull();
        expect(second.child.exitCode).toBe(0);
        note(`SIGTERMed ${second.name} (${termOwned.partitions.length} partitions) at ${await countRecordedEvents(database.pool, PREFIX)} recorded; exited 0 after ${Date.now() - termAt} ms`);

        // A fresh replica joins and is given partitions; the rest of the input follows.
        const fresh = await startReplica();
        replicas.set(fresh.name, fresh);
        const freshOwned = await group.ownsPartitions(fresh);
        const freshStart = await group.committed();
        note(`${fresh.name} joined with ${freshOwned.partitions.length} partitions at ${await countRecordedEvents(database.pool, PREFIX)} recorded`);
        await produceAll(kafka, topics, part(2));

        await waitFor("the group to commit every message", async () => ((await consumerLag(kafka, groupId, inputTopics)) === 0 ? true : undefined), { timeoutMs: 180_000, intervalMs: 250 });
        note("every message committed");
        // The third replica was neither killed nor stopped: it must have run throughout.
        for (const r of replicas.values()) expect(r.child.exitCode ?? r.child.signalCode, `${r.name} exited on its own; see ${r.logFile}`).toBeNull();
        // The fresh replica kept its partitions to the end and committed on them: its own work.
        expect((await group.memberOf(fresh))?.partitions, `${fresh.name} kept its assignment (no rebalance since it joined)`).toEqual(freshOwned.partitions);
        expect((await group.advancedSince(freshOwned, freshStart)).length, `${fresh.name} committed on the partitions it was given`).toBeGreaterThan(0);

        await waitFor("the relays to publish every outbox row", async () => {
          const r = await database.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL AND failed_at IS NULL");
          return r.rows[0]?.n === 0 ? true : undefined;
        }, { timeoutMs: 120_000, intervalMs: 250 });
        note("every outbox row published");
      } finally {
        await Promise.all([...replicas.values()].map((r) => r.stop()));
      }

      // Exact totals: each valid event recorded once, the invalid ones dead-lettered and only them.
      expect(await countRecordedEvents(database.pool, PREFIX)).toBe(COUNT);
      const dead = (await readWholeTopic(kafka, dlqTopic)).map((m) => WithId.parse(JSON.parse(m.value?.toString() ?? "null")).id);
      expect(new Set(dead)).toEqual(new Set(invalidEvents().map((e) => e.id)));

      // Every stage change is on the topic under its stable id; a re-sent one is the same message.
      const stages = await stageTopicAgainstTransitions(database.pool, kafka, stageTopic, PREFIX);
      expect(stages.transitions).toBeGreaterThan(1_000);
      expect(stages).toMatchObject({ missing: [], unexpected: [], changedOnResend: [] });

      // Every follow-up row is published, none given up, and BullMQ holds exactly their jobs, once.
      const rows = await followUpRows(database.pool, PREFIX);
      expect(rows.length).toBeGreaterThan(1_000);
      expect(rows.filter((r) => !r.published || r.failed)).toEqual([]);
      const jobs = await followUpJobs(followUps);
      expect(jobs.entries, "each job listed once").toBe(jobs.ids.length);
      expect(jobs.ids.length, "each job in one queue").toBe(new Set(jobs.ids).size);
      expect(new Set(jobs.ids)).toEqual(new Set(rows.map((r) => r.dedupe_key)));
      // The stage history is one chain per customer, and the win-backs and cross-sells are exactly
      // those its transitions trigger: a kill neither lost nor doubled a transition or its follow-up.
      expect(await brokenStageHistories(database.pool, PREFIX)).toEqual([]);
      expect(new Set(rows.map((r) => r.dedupe_key).filter(isStageTriggered))).toEqual(new Set(await stageFollowUpIds(database.pool, PREFIX)));

      // Against the one-process run: facts (counts, sums, tickets, surveys) and event-triggered
      // follow-ups must be equal for every customer.
      await reference;
      const [replicated, uninterrupted] = await Promise.all([stateSnapshot(database.pool, PREFIX), stateSnapshot(referenceDb.pool, PREFIX)]);
      note("snapshots read");
      expect(snapshotDifferences(replicated, uninterrupted)).toEqual({});
      expect(replicated.customers?.length).toBeGreaterThan(CUSTOMERS * 0.9);
      note("compared");
    } finally {
      await reference.catch(() => undefined);
      await referenceDb.drop();
      await followUps.obliterate();
      await followUps.close();
      redis.disconnect();
    }
  });
});
