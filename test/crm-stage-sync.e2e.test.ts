import { fileURLToPath } from "node:url";
import type { Kafka } from "kafkajs";
import type { Pool } from "@lifecycle/db";
import { CustomerErased, LIFECYCLE_STAGES, StageChanged } from "@lifecycle/events";
import { createKafka, ensureTopics } from "@lifecycle/kafka";
import { consumerLag, createTestLogger, describe, expect, produceEvents, startService, test, uniqueName, waitFor, type TestInfra } from "@lifecycle/testkit";
import { applyStageChanges, ensureCrmSchema, runCrmStageSync } from "../examples/crm-stage-sync/crm-stage-sync.js";

// The CRM-side example consumer (examples/crm-stage-sync) on the real broker and Postgres: fed
// duplicates, late (older) transitions and restarts, its table must end at each customer's
// latest stage, with every event counted once.
const SCRIPT = fileURLToPath(new URL("../examples/crm-stage-sync/crm-stage-sync.ts", import.meta.url));
const logger = createTestLogger("crm-stage-sync");

// The tests of this file share one database, and the example's ledger is keyed by event id:
// every test takes fresh sequence numbers, as the lifecycle service's transitions would have.
let nextSeq = 1;

function stageChanged({ id, customer, index, at }: { id: string; customer: string; index: number; at: Date }): StageChanged {
  const stage = (i: number) => LIFECYCLE_STAGES[i % LIFECYCLE_STAGES.length] ?? "prospect";
  return StageChanged.parse({
    specversion: "1.0",
    id,
    source: "customer-lifecycle",
    type: "lifecycle.stage.changed",
    subject: customer,
    time: at.toISOString(),
    datacontenttype: "application/json",
    data: {
      from: index === 0 ? null : stage(index - 1),
      to: stage(index),
      reason: `step-${index}`,
      at: at.toISOString(),
      clv: { historical: `${index}.00`, predicted: null, pAlive: null, expectedPurchases: null },
    },
  });
}

/** `rounds` transitions per customer, numbered as the lifecycle service numbers them: one global, growing sequence. */
function histories(customers: readonly string[], rounds: number): Map<string, StageChanged[]> {
  const byCustomer = new Map<string, StageChanged[]>(customers.map((c) => [c, []]));
  for (let index = 0; index < rounds; index++) {
    for (const customer of customers) {
      const seq = nextSeq++;
      byCustomer.get(customer)?.push(stageChanged({ id: `stage-changed-${seq}`, customer, index, at: new Date(Date.UTC(2026, 0, 1) + seq * 60_000) }));
    }
  }
  return byCustomer;
}

const nth = (h: Map<string, StageChanged[]>, customer: string, index: number): StageChanged => {
  const e = h.get(customer)?.[index];
  if (!e) throw new Error(`no transition ${index} for ${customer}`);
  return e;
};

const toMessage = (e: StageChanged) => ({ key: e.subject, value: JSON.stringify(e), headers: { ce_id: e.id, ce_type: e.type } });

async function createTopic(kafka: Kafka, topic: string) {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(admin, [{ topic, numPartitions: 3 }]);
  } finally {
    await admin.disconnect();
  }
}

async function caughtUp(kafka: Kafka, groupId: string, topic: string, timeoutMs = 60_000) {
  await waitFor(`${groupId} to commit everything on ${topic}`, async () => ((await consumerLag(kafka, groupId, topic)) === 0 ? true : undefined), { timeoutMs, intervalMs: 200 });
}

interface Row {
  customer_id: string;
  stage: string;
  reason: string;
  last_event_id: string;
  transitions_seen: number;
}

async function stages(pool: Pool, prefix: string): Promise<Row[]> {
  const { rows } = await pool.query<Row>(
    "SELECT customer_id, stage, reason, last_event_id, transitions_seen FROM crm_customer_stages WHERE customer_id LIKE $1 ORDER BY customer_id",
    [`${prefix}%`],
  );
  return rows;
}

/** What the table must hold: each customer's highest-numbered transition, and how many distinct ones it got. */
function expectedStages(delivered: readonly StageChanged[]): Row[] {
  const seq = (e: StageChanged) => Number(e.id.replace("stage-changed-", ""));
  const latest = new Map<string, StageChanged>();
  const ids = new Map<string, Set<string>>();
  for (const e of delivered) {
    const cur = latest.get(e.subject);
    if (!cur || seq(e) > seq(cur)) latest.set(e.subject, e);
    ids.set(e.subject, (ids.get(e.subject) ?? new Set()).add(e.id));
  }
  return [...latest.values()]
    .map((e) => ({ customer_id: e.subject, stage: e.data.to, reason: e.data.reason, last_event_id: e.id, transitions_seen: ids.get(e.subject)?.size ?? 0 }))
    .sort((a, b) => (a.customer_id < b.customer_id ? -1 : 1));
}

async function ledger(pool: Pool, prefix: string): Promise<{ rows: number; ids: number }> {
  const { rows } = await pool.query<{ rows: number; ids: number }>(
    "SELECT count(*)::int AS rows, count(DISTINCT event_id)::int AS ids FROM crm_processed_events WHERE customer_id LIKE $1",
    [`${prefix}%`],
  );
  return rows[0] ?? { rows: 0, ids: 0 };
}

function setup(infra: TestInfra, name: string) {
  return {
    kafka: createKafka({ brokers: infra.kafka.brokers, clientId: name, logger }),
    topic: uniqueName(`${name}-stage-changed`),
    groupId: uniqueName(`${name}-group`),
    prefix: uniqueName(name),
  };
}

describe("CRM stage sync example", { timeout: 180_000 }, () => {
  test("applyStageChanges: an id without a sequence number is ordered by data.at; a repeated id counts once", async ({ database }) => {
    await ensureCrmSchema(database.pool);
    const customer = uniqueName("crm-at");
    // Ids from another producer: no `stage-changed-<n>` suffix, so `data.at` decides.
    const older = stageChanged({ id: `${customer}-a`, customer, index: 1, at: new Date("2026-03-01T00:00:00Z") });
    const newer = stageChanged({ id: `${customer}-b`, customer, index: 2, at: new Date("2026-03-02T00:00:00Z") });
    const client = await database.pool.connect();
    try {
      await client.query("BEGIN");
      expect(await applyStageChanges(client, [newer, newer, older])).toEqual({ applied: 1, stale: 1, duplicates: 1, erased: 0, merged: 0 });
      await client.query("COMMIT");
      expect(await applyStageChanges(client, [older, newer])).toEqual({ applied: 0, stale: 0, duplicates: 2, erased: 0, merged: 0 });
    } finally {
      client.release();
    }
    expect(await stages(database.pool, customer)).toEqual([{ customer_id: customer, stage: newer.data.to, reason: newer.data.reason, last_event_id: newer.id, transitions_seen: 2 }]);
  });

  test("applyStageChanges: lifecycle.customer.erased deletes the customer's row, once; other customers keep theirs", async ({ database }) => {
    await ensureCrmSchema(database.pool);
    const [customer, other] = [uniqueName("crm-erased"), uniqueName("crm-kept")];
    const at = new Date("2026-03-01T00:00:00Z");
    const erased = CustomerErased.parse({ specversion: "1.0", id: `customer-erased-${customer}`, source: "customer-lifecycle", type: "lifecycle.customer.erased", subject: customer, time: at.toISOString(), data: { erasedAt: at.toISOString() } });
    const client = await database.pool.connect();
    try {
      await applyStageChanges(client, [stageChanged({ id: `${customer}-a`, customer, index: 1, at }), stageChanged({ id: `${other}-a`, customer: other, index: 1, at })]);
      expect(await applyStageChanges(client, [erased, erased])).toEqual({ applied: 0, stale: 0, duplicates: 1, erased: 1, merged: 0 });
    } finally {
      client.release();
    }
    expect(await stages(database.pool, customer)).toEqual([]);
    expect((await stages(database.pool, other)).map((r) => r.customer_id)).toEqual([other]);
  });

  test("in-process: duplicates, late transitions, a stop and restart, and a full replay end at the latest stage, each event once", async ({ infra, database }) => {
    const { kafka, topic, groupId, prefix } = setup(infra, "crm-inproc");
    await createTopic(kafka, topic);
    const customers = Array.from({ length: 6 }, (_, i) => `${prefix}-c${i}`);
    const h = histories(customers, 5);
    const run = () => runCrmStageSync({ kafka, pool: database.pool, topic, groupId, log: logger, sessionTimeoutMs: 6_000 });

    // Phase 1: transitions 0, 1 and 3 (2 is held back), then duplicates of 1 and 3.
    const phase1 = [
      ...customers.flatMap((c) => [nth(h, c, 0), nth(h, c, 1), nth(h, c, 3)]),
      ...customers.flatMap((c) => [nth(h, c, 1), nth(h, c, 3)]),
    ];
    await produceEvents(kafka, topic, [...phase1.map(toMessage), { key: customers[0] ?? null, value: "not json" }]);
    const stop1 = await run();
    try {
      await caughtUp(kafka, groupId, topic);
    } finally {
      await stop1();
    }
    expect(await stages(database.pool, prefix)).toEqual(expectedStages(phase1));

    // Phase 2, while stopped: transition 2 arrives late (older than the stored 3), transition 4
    // for half the customers (twice), a duplicate of 0, and a message that is JSON but no event.
    const half = customers.slice(0, 3);
    const phase2 = [
      ...customers.flatMap((c) => [nth(h, c, 2), nth(h, c, 0)]),
      ...half.flatMap((c) => [nth(h, c, 4), nth(h, c, 4)]),
    ];
    await produceEvents(kafka, topic, [...phase2.map(toMessage), { key: customers[1] ?? null, value: JSON.stringify({ type: "lifecycle.stage.changed", id: "x" }) }]);
    const stop2 = await run(); // the same group: resumes after phase 1's committed offsets
    try {
      await caughtUp(kafka, groupId, topic);
    } finally {
      await stop2();
    }
    const delivered = [...phase1, ...phase2];
    const expected = expectedStages(delivered);
    expect(expected.filter((r) => r.last_event_id === nth(h, r.customer_id, 4).id)).toHaveLength(3);
    expect(await stages(database.pool, prefix)).toEqual(expected);

    // A restart that lost its offsets (or died between its commit and its offset commit) sees
    // everything again: rewind the group to the start and replay it all. Nothing may change,
    // not even updated_at: each event is skipped by the ledger.
    const before = await database.pool.query("SELECT * FROM crm_customer_stages WHERE customer_id LIKE $1 ORDER BY customer_id", [`${prefix}%`]);
    const admin = kafka.admin();
    await admin.connect();
    await admin.resetOffsets({ groupId, topic, earliest: true });
    await admin.disconnect();
    const stop3 = await run();
    try {
      await caughtUp(kafka, groupId, topic);
    } finally {
      await stop3();
    }
    const after = await database.pool.query("SELECT * FROM crm_customer_stages WHERE customer_id LIKE $1 ORDER BY customer_id", [`${prefix}%`]);
    expect(after.rows).toEqual(before.rows);
    const distinctIds = new Set(delivered.map((e) => e.id)).size;
    expect(await ledger(database.pool, prefix)).toEqual({ rows: distinctIds, ids: distinctIds });
  });

  test("as a process: SIGKILLed mid-stream and restarted, it ends at the same table; SIGTERM stops it cleanly", async ({ infra, database }) => {
    const { kafka, topic, groupId, prefix } = setup(infra, "crm-proc");
    await createTopic(kafka, topic);
    const customers = Array.from({ length: 100 }, (_, i) => `${prefix}-c${String(i).padStart(3, "0")}`);
    const rounds = 10;
    const h = histories(customers, rounds);
    // Round by round, but every customer's transition 6 goes out before its 5 and its last (9)
    // before its 8; and every 7th message is sent twice.
    const order = [0, 1, 2, 3, 4, 6, 5, 7, 9, 8];
    const delivered = order.flatMap((r) => customers.map((c) => nth(h, c, r))).flatMap((e, i) => (i % 7 === 0 ? [e, e] : [e]));

    const env = {
      ...process.env,
      KAFKA_BROKERS: infra.kafka.brokers.join(","),
      STAGE_CHANGED_TOPIC: topic,
      CRM_DATABASE_URL: database.url,
      CRM_GROUP_ID: groupId,
      // The broker's minimum: the killed member's partitions move after 6 s instead of 30 s.
      CRM_SESSION_TIMEOUT_MS: "6000",
      LOG_LEVEL: "info",
    };
    const logDir = fileURLToPath(new URL("../.run/test-logs/crm-stage-sync", import.meta.url));
    const start = (name: string) => startService({ name, entry: SCRIPT, env, logDir, readyMessage: "crm-stage-sync running" });

    const first = await start("crm-stage-sync-1");
    // Produce in small chunks over a few seconds, so the kill lands while messages still arrive.
    const producing = (async () => {
      for (let i = 0; i < delivered.length; i += 50) {
        await produceEvents(kafka, topic, delivered.slice(i, i + 50).map(toMessage));
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const processed = async () => (await ledger(database.pool, prefix)).rows;
    await waitFor("some events synced", async () => ((await processed()) >= 150 ? true : undefined), { timeoutMs: 60_000, intervalMs: 20 });
    first.child.kill("SIGKILL");
    await first.stop();
    const atKill = await processed();

    const second = await start("crm-stage-sync-2");
    try {
      await producing;
      expect(atKill, "the kill must land mid-stream for this test to mean anything").toBeLessThan(new Set(delivered.map((e) => e.id)).size);
      await caughtUp(kafka, groupId, topic, 90_000);
    } finally {
      await second.stop();
    }
    expect(second.child.exitCode, "SIGTERM: the script disconnects and exits on its own").toBe(0);

    const expected = expectedStages(delivered);
    expect(expected.every((r) => r.last_event_id === nth(h, r.customer_id, rounds - 1).id && r.transitions_seen === rounds)).toBe(true);
    expect(await stages(database.pool, prefix)).toEqual(expected);
    const distinctIds = customers.length * rounds;
    expect(await ledger(database.pool, prefix)).toEqual({ rows: distinctIds, ids: distinctIds });
  });
});
