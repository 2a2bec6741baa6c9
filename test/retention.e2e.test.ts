import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import pg from "pg";
import { ensureMonthPartition, monthPartitions, monthStart, runRetention, type Pool, type RetentionResult } from "@lifecycle/db";
import { createClock } from "@lifecycle/engine";
import { LifecycleEvent } from "@lifecycle/events";
import { arbitraryTypedData, validEvent } from "@lifecycle/events/arbitraries";
import { applyEvents, createApplyDeps } from "@lifecycle/pipeline";
import { createTestDatabase, describe, expect, snapshotDifferences, stateSnapshot, test, uniqueName, waitFor } from "@lifecycle/testkit";
import { readEventFile } from "../scripts/lib/event-files.js";

// Issue 15's done-when: events over 14 months, retention with a 6-month payload window: the old
// months' partitions are gone (archived first), the recent ones intact, a re-sent old event is
// still recognised, the facts, stages and CLV are unchanged, and a fresh database rebuilt from the
// archive plus the events still stored has the same state, customer by customer.
const DAY_MS = 86_400_000;
// One "now" for both databases: stages, predictions and health are derived with the clock.
const now = new Date(Math.floor(Date.now() / 1000) * 1000);
const PAYLOAD_DAYS = 183;
const settings = { payloadDays: PAYLOAD_DAYS, dedupeDays: 90, outboxHours: 24, outcomeDays: 400 };

/** 600 events for 25 customers, their times spread over the 14 months before `now` (a fixed seed). */
function fourteenMonths(prefix: string): LifecycleEvent[] {
  const row = fc.tuple(fc.integer({ min: 1, max: 25 }), fc.integer({ min: 0, max: 425 * 24 - 1 }), arbitraryTypedData);
  const rows = fc.sample(row, { seed: 15, numRuns: 600 });
  return rows.map(([c, hoursAgo, typed], i) => validEvent(`${prefix}e${i}`, `${prefix}c${c}`, new Date(now.getTime() - hoursAgo * 3_600_000).toISOString(), typed));
}

async function applyInBatches(pool: Pool, events: readonly LifecycleEvent[]) {
  const deps = createApplyDeps({ pool, rates: { USD: "1", EUR: "1.1" }, clock: createClock({ mode: "wall", wallNow: () => now }), modelCacheMs: 0 });
  let outcome = { applied: 0, duplicates: 0 };
  for (let i = 0; i < events.length; i += 50) {
    const r = await applyEvents(deps, events.slice(i, i + 50).map((event, n) => ({ event, topic: "t", partition: 0, offset: i + n })));
    outcome = { applied: outcome.applied + r.applied, duplicates: outcome.duplicates + r.duplicates };
  }
  return outcome;
}

/** The events still stored in the inbox, as the CloudEvents they arrived as. */
async function storedEvents(pool: Pool): Promise<LifecycleEvent[]> {
  const r = await pool.query<{ id: string; source: string; type: string; subject: string; time: Date; data: unknown }>(
    "SELECT event_id AS id, source, type, subject, event_time AS time, data FROM inbox_events",
  );
  return r.rows.map((e) => LifecycleEvent.parse({ specversion: "1.0", ...e, time: e.time.toISOString() }));
}

/** Every follow-up job id queued (outbox) or decided without queueing (an outcome), event-triggered ones only. */
async function decidedFollowUps(pool: Pool): Promise<string[]> {
  const r = await pool.query<{ id: string }>(
    `SELECT dedupe_key AS id FROM outbox WHERE kind = 'follow-up' UNION SELECT job_id FROM job_outcomes ORDER BY 1`,
  );
  // Stage-driven follow-ups follow the observed stage history, which depends on arrival order by design.
  return r.rows.map((f) => f.id).filter((id) => !/^fu\|(win-back-at-risk|win-back-churned|cross-sell)\|/.test(id));
}

describe("retention", { timeout: 180_000 }, () => {
  test("a 6-month payload window over 14 months of events: old months archived and dropped, recent ones intact, re-sent old events still duplicates, state unchanged and rebuilt from the archive", async ({ infra, database }) => {
    const prefix = uniqueName("ret");
    const events = fourteenMonths(prefix);
    expect(await applyInBatches(database.pool, events)).toEqual({ applied: events.length, duplicates: 0 });
    const before = await stateSnapshot(database.pool, prefix, { derived: true });
    const transitions = async () => (await database.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM stage_transitions")).rows[0]?.n;
    const transitionsBefore = await transitions();
    const archiveDir = await mkdtemp(join(tmpdir(), "lifecycle-archive-"));
    const rebuilt = await createTestDatabase(infra.postgres.adminUrl);
    try {
      const result = await runRetention(database.pool, { ...settings, archiveDir }, { eventNow: now, wallNow: now });

      // Months that ended before the cutoff are gone, each archived first; the later ones are there.
      const cutoff = new Date(now.getTime() - PAYLOAD_DAYS * DAY_MS);
      const old = events.filter((e) => monthStart(new Date(e.time), 1).getTime() <= cutoff.getTime());
      expect(old.length).toBeGreaterThan(150);
      expect(result.payloadMonthsDropped.reduce((n, m) => n + m.events, 0)).toBe(old.length);
      const months = await monthPartitions(database.pool, "inbox_events");
      expect(months.every((m) => m.to.getTime() > cutoff.getTime())).toBe(true);
      for (const e of events.filter((x) => !old.includes(x))) expect(months.some((m) => m.from <= new Date(e.time) && new Date(e.time) < m.to), e.time).toBe(true);
      expect((await database.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM inbox_events_default")).rows[0]?.n).toBe(0);
      const stored = await storedEvents(database.pool);
      expect(stored.map((e) => e.id).sort()).toEqual(events.filter((x) => !old.includes(x)).map((e) => e.id).sort());
      // The stage history stays, moved out of the default partition into its months.
      expect(await transitions()).toBe(transitionsBefore);
      expect((await database.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM stage_transitions_default")).rows[0]?.n).toBe(0);

      // Facts, stages and CLV do not come from the payloads: unchanged.
      expect(snapshotDifferences(before, await stateSnapshot(database.pool, prefix, { derived: true }))).toEqual({});
      // An old event sent again (its payload gone) is still a duplicate, and changes nothing.
      expect(await applyInBatches(database.pool, old.slice(0, 20))).toEqual({ applied: 0, duplicates: 20 });
      expect(snapshotDifferences(before, await stateSnapshot(database.pool, prefix, { derived: true }))).toEqual({});

      // A fresh database from the archives (read the way `npm run replay` reads them) and the stored events.
      const files = (await readdir(archiveDir)).filter((f) => f.endsWith(".jsonl.gz"));
      expect(files.length).toBe(result.payloadMonthsDropped.length);
      const archived: LifecycleEvent[] = [];
      for (const file of files) for await (const record of readEventFile(join(archiveDir, file), "jsonl")) archived.push(LifecycleEvent.parse(JSON.parse(record.value)));
      expect(archived.map((e) => e.id).sort()).toEqual(old.map((e) => e.id).sort());
      expect(await applyInBatches(rebuilt.pool, [...archived, ...stored])).toEqual({ applied: events.length, duplicates: 0 });
      // Follow-ups are compared as decided, queued or not: a follow-up whose trigger the rebuild saw
      // at an older event (the archive came first) expired before it was queued, so it is a skipped
      // outcome there and an outbox row here (which follow-ups a rebuild queues is no part of the state).
      const { outbox: _queued, ...state } = before;
      const { outbox: _requeued, ...rebuiltState } = await stateSnapshot(rebuilt.pool, prefix, { derived: true });
      expect(snapshotDifferences(state, rebuiltState)).toEqual({});
      expect(await decidedFollowUps(rebuilt.pool)).toEqual(await decidedFollowUps(database.pool));
    } finally {
      await rebuilt.drop();
      await rm(archiveDir, { recursive: true, force: true });
    }
  });

  test("published outbox rows go after the grace period, a follow-up still owed stays; old job outcomes and event ids go", async ({ database }) => {
    const { pool } = database;
    const hoursAgo = (h: number) => new Date(now.getTime() - h * 3_600_000);
    const followUp = (id: string, expiresAt: Date) => JSON.stringify({ customerId: "c1", playbook: "thank-you", dueAt: hoursAgo(50).toISOString(), expiresAt: expiresAt.toISOString(), id });
    await pool.query(
      `INSERT INTO outbox (kind, dedupe_key, payload, published_at, due_at, failed_at) VALUES
         ('stage-changed', 'old-stage-change', '{}', $1, NULL, NULL),
         ('stage-changed', 'recent-stage-change', '{}', $2, NULL, NULL),
         ('stage-changed', 'unpublished-stage-change', '{}', NULL, NULL, NULL),
         ('follow-up', 'fu|thank-you|c1|done', $3, $1, $1, NULL),
         ('follow-up', 'fu|thank-you|c1|owed', $4, $1, $1, NULL),
         ('follow-up', 'fu|thank-you|c1|expired', $5, $1, $1, NULL),
         ('follow-up', 'fu|thank-you|c1|given-up-long-ago', $4, NULL, $1, $6)`,
      [hoursAgo(48), hoursAgo(2), followUp("done", hoursAgo(-100)), followUp("owed", hoursAgo(-100)), followUp("expired", hoursAgo(1)), hoursAgo(24 * 500)],
    );
    await pool.query(
      `INSERT INTO job_outcomes (job_id, queue, job_name, customer_id, status, attempts, finished_at) VALUES
         ('fu|thank-you|c1|done', 'q', 'follow-up', 'c1', 'sent', 1, $1),
         ('fu|thank-you|c1|ancient', 'q', 'follow-up', 'c1', 'sent', 1, $2)`,
      [hoursAgo(47), hoursAgo(24 * 401)],
    );
    await pool.query("INSERT INTO event_ids (event_key, recorded_at) VALUES (md5('old')::uuid, $1), (md5('recent')::uuid, $2)", [hoursAgo(24 * 91), hoursAgo(24 * 89)]);

    const result = await runRetention(pool, settings, { eventNow: now, wallNow: now });
    expect(result).toMatchObject({ ran: true, outboxRows: 4, jobOutcomes: 1, eventIds: 1 });
    // (The first test's rows are in this database too: none of them published or old.)
    const left = await pool.query<{ dedupe_key: string }>("SELECT dedupe_key FROM outbox WHERE dedupe_key LIKE '%stage-change' OR dedupe_key LIKE 'fu|thank-you|c1|%' ORDER BY dedupe_key");
    expect(left.rows.map((r) => r.dedupe_key)).toEqual(["fu|thank-you|c1|owed", "recent-stage-change", "unpublished-stage-change"]);
    const outcomes = await pool.query<{ job_id: string }>("SELECT job_id FROM job_outcomes WHERE job_id LIKE 'fu|thank-you|c1|%'");
    expect(outcomes.rows.map((r) => r.job_id)).toEqual(["fu|thank-you|c1|done"]);
    const ids = await pool.query<{ n: number }>("SELECT count(*)::int AS n FROM event_ids WHERE event_key = md5('recent')::uuid");
    expect(ids.rows[0]?.n).toBe(1);
    // A second run at once finds nothing more to remove.
    expect(await runRetention(pool, settings, { eventNow: now, wallNow: now })).toMatchObject({ ran: true, outboxRows: 0, jobOutcomes: 0, eventIds: 0 });
  });

  test("a month's partition made while an ingest transaction writes that month's rows into the default partition: made, and no row left behind; making or detaching held past the lock timeout is left to the next run", async ({ database }) => {
    // A backfill writes old months into the default partition while retention makes their
    // partitions. Here the ingest's transaction has inserted a row of March 2001 and not committed
    // when the partition is made: the maker waits for it and moves it (before, it moved what it saw,
    // then refused to attach: "updated partition constraint for default partition … would be
    // violated", and that retention run failed whole).
    const month = new Date("2001-03-01T00:00:00Z");
    const insert = "INSERT INTO inbox_events (event_id, type, source, subject, event_time, data, topic, kafka_partition, kafka_offset) VALUES ($1, 'ticket.opened', 't', 'c', $2, '{}', 't', 0, 0)";
    await database.pool.query(insert, ["backfill-1", "2001-03-02T00:00:00Z"]);
    const ingest = new pg.Client({ connectionString: database.url });
    await ingest.connect();
    try {
      await ingest.query("BEGIN");
      await ingest.query(insert, ["backfill-2", "2001-03-03T00:00:00Z"]);
      const making = ensureMonthPartition(database.pool, "inbox_events", month);
      // The maker is waiting on the ingest's transaction (a lock it cannot take yet).
      await waitFor("the partition maker waiting for the ingest", async () => {
        const r = await database.pool.query("SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%lifecycle_month_partition%'");
        return r.rowCount ? true : undefined;
      }, { timeoutMs: 10_000 });
      await ingest.query("COMMIT");
      expect(await making).toBe(true);
    } finally {
      await ingest.end();
    }
    const rows = await database.pool.query<{ id: string; partition: string }>("SELECT event_id AS id, tableoid::regclass::text AS partition FROM inbox_events WHERE event_id LIKE 'backfill-%' ORDER BY 1");
    expect(rows.rows).toEqual([
      { id: "backfill-1", partition: "inbox_events_m2001_03" },
      { id: "backfill-2", partition: "inbox_events_m2001_03" },
    ]);

    // A writer that holds the tables past the lock timeout (a long backfill transaction): what
    // needs it waits that long, then is left to the next run while the rest of this one goes on.
    const longTx = new pg.Client({ connectionString: database.url });
    await longTx.connect();
    const holding = async (run: () => Promise<RetentionResult>) => {
      await longTx.query("BEGIN");
      await longTx.query(insert, [uniqueName("backfill-held"), "2001-04-03T00:00:00Z"]);
      try {
        return await run();
      } finally {
        await longTx.query("COMMIT");
      }
    };
    try {
      // May 2001 committed in the default partition: making its partition waits for the writer.
      await database.pool.query(insert, ["backfill-4", "2001-05-03T00:00:00Z"]);
      const made = await holding(() => runRetention(database.pool, { ...settings, lockTimeoutMs: 300 }, { eventNow: undefined, wallNow: now }));
      expect(made).toMatchObject({ ran: true, partitionsDeferred: ["inbox_events_m2001_05"] });
      expect(made.partitionsCreated).toEqual([]);
      // Old payload months: detaching waits for the writer (it holds the inbox), so they stay.
      const dropped = await holding(() => runRetention(database.pool, { ...settings, lockTimeoutMs: 300 }, { eventNow: now, wallNow: now }));
      expect(dropped).toMatchObject({ ran: true, payloadMonthsDropped: [] });
      expect(dropped.partitionsDeferred).toContain("inbox_events_m2001_03");
    } finally {
      await longTx.end();
    }
    // The next runs make April's and May's partitions with their rows, then drop all of 2001.
    const next = await runRetention(database.pool, settings, { eventNow: undefined, wallNow: now });
    expect(next).toMatchObject({ partitionsDeferred: [], partitionsCreated: ["inbox_events_m2001_04", "inbox_events_m2001_05"] });
    const backfill = await database.pool.query<{ partition: string; n: number }>("SELECT tableoid::regclass::text AS partition, count(*)::int AS n FROM inbox_events WHERE event_id LIKE 'backfill-%' GROUP BY 1 ORDER BY 1");
    expect(backfill.rows).toEqual([
      { partition: "inbox_events_m2001_03", n: 2 },
      { partition: "inbox_events_m2001_04", n: 2 },
      { partition: "inbox_events_m2001_05", n: 1 },
    ]);
    const last = await runRetention(database.pool, settings, { eventNow: now, wallNow: now });
    expect(last.partitionsDeferred).toEqual([]);
    expect(last.payloadMonthsDropped.map((m) => m.partition)).toEqual(["inbox_events_m2001_03", "inbox_events_m2001_04", "inbox_events_m2001_05"]);
  });
});
