import { rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Partitioners, type Kafka } from "kafkajs";
import type { Pool } from "@lifecycle/db";
import { LifecycleEvent, type InputTopics } from "@lifecycle/events";
import { createEventPublisher, createKafka, ensureTopics } from "@lifecycle/kafka";
import {
  consumerLag,
  countRecordedEvents,
  createTestLogger,
  describe,
  expect,
  removeRedisKeys,
  startService,
  test,
  uniqueName,
  waitFor,
  type ServiceProcess,
} from "@lifecycle/testkit";
import { watchGroup } from "./support/replica-group.js";
import { runLog } from "./support/run-log.js";

// Issue 14's done-when: "a merge under load (events for both ids arriving during the merge) loses
// nothing and counts nothing twice". Two ingest processes share the input topics; 200 people are
// each known as `account:N` and `email:N`, and their purchases, tickets, survey answers, consents
// and refunds arrive under both ids while the identify and merge events joining each pair are
// applied. The Kafka key is the subject, so a pair's events run on different partitions, often in
// the other replica, at the same time as the merge that moves their records.
const INGEST_MAIN = fileURLToPath(new URL("../services/ingest/src/main.ts", import.meta.url));
const PAIRS = 200;
const PARTITIONS = 4;
const PREFIX = "iml-";
/** Events per produce request. */
const CHUNK = 500;
/** Between the segments of the stream once merging begins: steady traffic, not one burst. */
const PAUSE_MS = 100;
/** Rows of each pair's `around` events sent before the identity events. */
const AROUND_FIRST = 2;
const logger = createTestLogger("identity-merge-load");

const account = (n: number) => `account:${n}`;
const email = (n: number) => `email:${n}`;
/** A known amount per (pair, order): the same wherever the order is sent again. */
const amountCents = (n: number, order: number) => 1_000 + ((n * 7_919 + order * 104_729) % 9_000);
const money = (cents: number) => `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, "0")}`;
const cents = (v: string | null | undefined) => (v == null ? null : Math.round(Number(v) * 100));

/**
 * One person's events. `before`: records under both ids (order 2 under both, so the merge folds
 * two rows of one order). `identity`: what joins the ids: every fourth pair a customer.merged, the
 * others a customer.identified, and every fourth also an identify from the e-mail side a minute
 * later (the account stays the survivor, the earliest identify's subject, whichever side is
 * applied first). `around`: more of everything, orders 3 and 5 re-sent under the other id, one
 * entry per row of the stream.
 */
function pairEvents(n: number, base: number) {
  let seq = 0;
  const ev = (minute: number, subject: string, type: string, data: Record<string, unknown>): LifecycleEvent =>
    LifecycleEvent.parse({ specversion: "1.0", id: `${PREFIX}${n}-${seq++}`, source: "identity-merge-load", subject, time: new Date(base + minute * 60_000 + n).toISOString(), type, data });
  const buy = (minute: number, subject: string, order: number) =>
    ev(minute, subject, "purchase.completed", { orderId: `o${n}-${order}`, amount: money(amountCents(n, order)), currency: "USD" });
  const [a, e, t1, t2] = [account(n), email(n), `t${n}-1`, `t${n}-2`];
  const before = [
    buy(1, a, 1),
    buy(2, e, 2),
    buy(3, e, 3),
    ev(4, e, "ticket.opened", { ticketId: t1, channel: "email" }),
    ev(5, a, "ticket.opened", { ticketId: t2, channel: "chat" }),
    ev(6, e, "survey.responded", { kind: "nps", score: n % 11 }),
    ev(7, e, "customer.consent.updated", { channel: "email", status: "granted", source: "preference-centre" }),
    buy(8, a, 2),
  ];
  const identity =
    n % 4 === 2
      ? [ev(50, a, "customer.merged", { mergedIds: [e], reason: "duplicate-profile" })]
      : [ev(50, a, "customer.identified", { ids: [e] }), ...(n % 4 === 3 ? [ev(51, e, "customer.identified", { ids: [a] })] : [])];
  // Rows AROUND_FIRST to AROUND_FIRST + 3 follow the identity blocks: under the e-mail id, the one
  // merged away.
  const around = [
    buy(60, a, 5),
    buy(61, e, 4),
    ev(62, e, "ticket.resolved", { ticketId: t1, contacts: 2 }),
    buy(63, e, 6),
    buy(64, e, 5),
    ev(65, e, "survey.responded", { kind: "csat", score: 1 + (n % 5) }),
    ev(66, a, "ticket.responded", { ticketId: t1, by: "agent" }),
    buy(67, a, 3),
    buy(68, e, 7),
    ...(n % 5 === 0 ? [ev(69, e, "purchase.refunded", { orderId: `o${n}-4`, amount: "5.25", currency: "USD" })] : []),
  ];
  return { before, identity, around };
}
type Pair = ReturnType<typeof pairEvents>;

/** Rows `from` to `to` of the stream, row i being the i-th event of every pair (live traffic interleaves people). */
const rows = (lists: readonly LifecycleEvent[][], from: number, to = Math.max(...lists.map((l) => l.length))) =>
  Array.from({ length: Math.max(0, to - from) }, (_, k) => lists.flatMap((l) => l[from + k] ?? []));

/** The customer-topic partition of a subject, as the producer's partitioner chooses it. */
function partitionOf(subject: string): number {
  const partitionMetadata = Array.from({ length: PARTITIONS }, (_, partitionId) => ({ partitionErrorCode: 0, partitionId, leader: 0, replicas: [0], isr: [0] }));
  return Partitioners.DefaultPartitioner()({ topic: "customer", partitionMetadata, message: { key: subject, value: null } });
}

/**
 * The stream once every pair has records under both ids, in segments sent a pause apart. Rows of
 * traffic, then the one-sided identity events in one block per customer-topic partition, each
 * followed by a row under the e-mail ids: only the replica that owns the partition merges while
 * the other goes on applying the same people's events (a batch that resolved an id the merge then
 * moved must start over). Last the pairs identified from both sides, both events in one segment
 * with the rest of the traffic: their two replicas may choose the survivor at once (the graph lock
 * serialises them), or one side lands first and its records move to the other id and back.
 */
function streamAfterFirstPart(pairs: readonly Pair[]): LifecycleEvent[][] {
  const around = pairs.map((p) => p.around);
  const oneSided = pairs.flatMap((p) => (p.identity.length === 1 ? p.identity : []));
  const bothSided = pairs.flatMap((p) => (p.identity.length > 1 ? p.identity : []));
  const later = rows(around, AROUND_FIRST);
  return [
    ...rows(around, 0, AROUND_FIRST),
    ...Array.from({ length: PARTITIONS }, (_, k) => [oneSided.filter((i) => partitionOf(i.subject) === k), later[k] ?? []]).flat(),
    [...bothSided, ...later.slice(PARTITIONS).flat()],
  ];
}

/** Sends each segment (in requests of CHUNK events), `pauseMs` after each. */
async function produce(kafka: Kafka, topics: InputTopics, segments: readonly LifecycleEvent[][], pauseMs = 0) {
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
  await producer.connect();
  try {
    const publish = createEventPublisher({ producer, topics });
    for (const segment of segments) {
      for (let i = 0; i < segment.length; i += CHUNK) await publish(segment.slice(i, i + CHUNK));
      if (pauseMs) await new Promise((r) => setTimeout(r, pauseMs));
    }
  } finally {
    await producer.disconnect();
  }
}

/** What a pair's events add up to: distinct orders with their amounts, refunds, tickets, answers. */
function expectedOf(events: readonly LifecycleEvent[]) {
  const orders = new Map<string, number>();
  const tickets = new Set<string>();
  let [refunded, surveys] = [0, 0];
  for (const e of events) {
    if (e.type === "purchase.completed") orders.set(e.data.orderId, cents(e.data.amount) ?? 0);
    if (e.type === "purchase.refunded") refunded += cents(e.data.amount) ?? 0;
    if (e.type === "ticket.opened" || e.type === "ticket.responded" || e.type === "ticket.resolved") tickets.add(e.data.ticketId);
    if (e.type === "survey.responded") surveys++;
  }
  const revenue = [...orders.values()].reduce((sum, c) => sum + c, 0);
  return { orderIds: [...orders.keys()].sort(), revenue, refunded, tickets: tickets.size, surveys };
}

// The tables that hold a customer's records (a merge moves every one of them).
const RECORD_TABLES = ["orders", "refunds", "tickets", "survey_responses", "stage_transitions", "customer_consents"] as const;

/** Everything the checks read, for all customers at once. */
async function readState(pool: Pool) {
  const q = async <T extends object>(sql: string) => (await pool.query<T>(sql)).rows;
  type Customer = { customer_id: string; purchase_count: number; revenue: string | null; refunded: string | null; historical_clv: string | null; tickets_total: number; open_tickets: number };
  const customers = await q<Customer>("SELECT customer_id, purchase_count, revenue::text, refunded::text, historical_clv::text, tickets_total, open_tickets FROM customers");
  const aliases = await q<{ alias_id: string; customer_id: string }>("SELECT alias_id, customer_id FROM customer_aliases");
  const rowCounts = new Map<string, Map<string, number>>();
  for (const table of RECORD_TABLES) {
    const counts = await q<{ customer_id: string; n: number }>(`SELECT customer_id, count(*)::int AS n FROM ${table} GROUP BY customer_id`);
    rowCounts.set(table, new Map(counts.map((c) => [c.customer_id, c.n])));
  }
  const orders = new Map<string, string[]>();
  for (const o of await q<{ customer_id: string; order_id: string }>("SELECT customer_id, order_id FROM orders ORDER BY order_id")) {
    orders.set(o.customer_id, [...(orders.get(o.customer_id) ?? []), o.order_id]);
  }
  const merges = (await q<{ payload: { subject: string; data: { mergedIds: string[]; causationId: string } } }>("SELECT payload FROM outbox WHERE kind = 'customer-merged' ORDER BY id")).map((r) => r.payload);
  return { customers: new Map(customers.map((c) => [c.customer_id, c])), aliases: new Map(aliases.map((a) => [a.alias_id, a.customer_id])), rowCounts, orders, merges };
}

/** Every way the state differs from what the pairs' events must give, one line each. */
function pairProblems(state: Awaited<ReturnType<typeof readState>>, pairs: readonly Pair[]): string[] {
  const problems: string[] = [];
  const check = (n: number, what: string, actual: unknown, expected: unknown) => {
    if (JSON.stringify(actual) !== JSON.stringify(expected)) problems.push(`pair ${n} ${what}: ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`);
  };
  const pairOf = (id: string) => Number(id.split(":")[1]);
  const movesOf = new Map<number, string[]>();
  for (const m of state.merges) movesOf.set(pairOf(m.subject), [...(movesOf.get(pairOf(m.subject)) ?? []), `${m.data.mergedIds.join(",")}->${m.subject}`]);
  pairs.forEach((p, n) => {
    const [survivor, merged] = [account(n), email(n)];
    const want = expectedOf([...p.before, ...p.around]);
    const c = state.customers.get(survivor);
    const rowsUnder = (table: string, id: string) => state.rowCounts.get(table)?.get(id) ?? 0;
    check(n, "customer row under the merged id", state.customers.has(merged), false);
    check(n, "aliases (merged, survivor)", [state.aliases.get(merged), state.aliases.get(survivor)], [survivor, undefined]);
    for (const table of RECORD_TABLES) check(n, `${table} rows under the merged id`, rowsUnder(table, merged), 0);
    check(n, "the survivor's orders", state.orders.get(survivor) ?? [], want.orderIds);
    check(n, "purchase_count, revenue, refunded, historical_clv", [c?.purchase_count, cents(c?.revenue), cents(c?.refunded), cents(c?.historical_clv)], [
      want.orderIds.length, want.revenue, want.refunded, want.revenue - want.refunded,
    ]);
    // One ticket resolved (its three events spread over both ids), one still open.
    check(n, "tickets (rows, total, open)", [rowsUnder("tickets", survivor), c?.tickets_total, c?.open_tickets], [want.tickets, want.tickets, 1]);
    check(n, "survey answers and consents", [rowsUnder("survey_responses", survivor), rowsUnder("customer_consents", survivor)], [want.surveys, 1]);
    // One message per move: the e-mail id into the account; for pairs identified from both sides,
    // when the e-mail side's identify was applied first, the account into the e-mail id before it.
    const into = `${merged}->${survivor}`;
    const moves = movesOf.get(n) ?? [];
    const allowed = n % 4 === 3 ? [[into], [`${survivor}->${merged}`, into]] : [[into]];
    if (!allowed.some((a) => JSON.stringify(a) === JSON.stringify(moves))) check(n, "lifecycle.customer.merged messages", moves, allowed);
  });
  for (const m of state.merges) {
    if (!pairs[pairOf(m.subject)]?.identity.some((i) => i.id === m.data.causationId)) problems.push(`merge message of ${m.subject} caused by ${m.data.causationId}, no identity event of its pair`);
  }
  return problems;
}

describe("a merge under load, two ingest replicas", { timeout: 180_000 }, () => {
  test("200 pairs of ids merged while their events arrive under both: nothing left under a merged id, nothing lost, nothing counted twice", async ({ infra, database, onTestFinished }) => {
    const run = uniqueName("iml");
    const topics: InputTopics = { customer: `${run}-customer`, purchase: `${run}-purchase`, supportTicket: `${run}-ticket`, survey: `${run}-survey` };
    const inputTopics = Object.values(topics);
    const [dlqTopic, stageTopic, groupId, queuePrefix] = [`${run}-dlq`, `${run}-stages`, `${run}-group`, `${run}-q`];
    const { logDir, note } = runLog(run);
    const kafka = createKafka({ brokers: infra.kafka.brokers, clientId: run, logger });
    const replicas: ServiceProcess[] = [];
    // Whatever happened: the processes first, then what they wrote to (the database is the
    // fixture's). Every step runs even when one before it failed.
    onTestFinished(async () => {
      const steps = [
        () => Promise.all(replicas.map((r) => r.stop())),
        async () => {
          const admin = kafka.admin();
          await admin.connect();
          try {
            if ((await admin.listGroups()).groups.some((g) => g.groupId === groupId)) await admin.deleteGroups([groupId]);
            const existing = new Set(await admin.listTopics());
            const mine = [...inputTopics, dlqTopic, stageTopic].filter((t) => existing.has(t));
            if (mine.length) await admin.deleteTopics({ topics: mine, timeout: 30_000 });
          } finally {
            await admin.disconnect();
          }
        },
        () => removeRedisKeys(infra.redis.url, queuePrefix),
      ];
      const failed: unknown[] = [];
      for (const step of steps) await step().catch((err: unknown) => failed.push(err));
      if (failed.length) throw new AggregateError(failed, "cleanup failed");
    });

    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, inputTopics.map((topic) => ({ topic, numPartitions: PARTITIONS })));
    await admin.disconnect();
    const pairs = Array.from({ length: PAIRS }, (_, n) => pairEvents(n, Date.now() - 6 * 3_600_000));
    const before = rows(pairs.map((p) => p.before), 0).flat();
    const after = streamAfterFirstPart(pairs);
    const produced = [...before, ...after.flat()];

    const env = (name: string) => ({
      ...process.env,
      DATABASE_URL: database.url,
      KAFKA_BROKERS: infra.kafka.brokers.join(","),
      KAFKA_CLIENT_ID: `${run}-${name}`,
      REDIS_URL: infra.redis.url,
      QUEUE_PREFIX: queuePrefix,
      INPUT_TOPICS: inputTopics.join(","),
      DLQ_TOPIC: dlqTopic,
      STAGE_CHANGED_TOPIC: stageTopic,
      INGEST_GROUP_ID: groupId,
      TOPIC_PARTITIONS: "2",
      // Two processes on one machine: no probe server, so no port to share.
      PROBE_PORT: "-1",
      LOG_LEVEL: "info",
    });
    const group = watchGroup({ kafka, groupId, topics: inputTopics, clientIdOf: (r) => `${run}-${r.name}-ingest` });
    try {
      const started = ["ingest-1", "ingest-2"].map((name) => startService({ name, entry: INGEST_MAIN, env: env(name), logDir, readyMessage: "ingest running" }).then((r) => replicas.push(r)));
      await Promise.all(started);
      await Promise.all(replicas.map((r) => group.ownsPartitions(r)));
      note("two replicas own partitions");
      // Records under both ids of every pair first: each merge then has something to move.
      await produce(kafka, topics, [before]);
      await waitFor("the first part recorded", async () => ((await countRecordedEvents(database.pool, PREFIX)) >= before.length ? true : undefined), { timeoutMs: 60_000, intervalMs: 100 });
      note(`${before.length} events recorded; ${produced.length - before.length} more with the identity events among them`);
      await produce(kafka, topics, after, PAUSE_MS);
      await waitFor("the group to commit every message", async () => ((await consumerLag(kafka, groupId, inputTopics)) === 0 ? true : undefined), { timeoutMs: 90_000, intervalMs: 100 });
      note("every message committed");
      for (const r of replicas) expect(r.child.exitCode ?? r.child.signalCode, `${r.name} exited on its own; see ${r.logFile}`).toBeNull();
    } finally {
      await Promise.all(replicas.map((r) => r.stop()));
    }

    // Every event recorded, once.
    const inbox = await database.pool.query<{ event_id: string }>("SELECT event_id FROM inbox_events WHERE event_id LIKE $1", [`${PREFIX}%`]);
    expect(inbox.rows.length).toBe(produced.length);
    expect(new Set(inbox.rows.map((r) => r.event_id))).toEqual(new Set(produced.map((e) => e.id)));
    // The merges met traffic: events sent under a merged id were applied once its merge had begun.
    const met = await database.pool.query<{ n: number }>(
      "SELECT count(DISTINCT a.alias_id)::int AS n FROM customer_aliases a JOIN inbox_events i ON i.subject = a.alias_id AND i.received_at >= a.merged_at WHERE i.type NOT LIKE 'customer.%'",
    );
    expect(met.rows[0]?.n, "pairs with events under the merged id applied after their merge began").toBeGreaterThan(PAIRS / 2);

    const problems = pairProblems(await readState(database.pool), pairs);
    // How many pairs failed each check, and the first failures in full.
    const failedChecks: Record<string, number> = {};
    for (const what of problems.map((p) => p.replace(/^pair \d+ /, "").replace(/:.*$/, ""))) failedChecks[what] = (failedChecks[what] ?? 0) + 1;
    expect({ failedChecks, first: problems.slice(0, 8) }).toEqual({ failedChecks: {}, first: [] });
    note("checked");
    rmSync(logDir, { recursive: true, force: true });
  });
});
