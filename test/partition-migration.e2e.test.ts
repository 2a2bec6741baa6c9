import { randomUUID } from "node:crypto";
import { createDatabase, createInboxRepo, createPool, dropDatabase, migrate, monthPartitions } from "@lifecycle/db";
import { describe, expect, test } from "@lifecycle/testkit";

// Issue 15's done-when: migration 0017 converts a populated, non-partitioned inbox (and stage
// history) into monthly partitions with no row lost, every id still a duplicate afterwards.
const BEFORE_0017 = 16;

describe("migration 0017: partitioned inbox and stage history", { timeout: 120_000 }, () => {
  test("converts a populated inbox and stage history with every row, every id deduplicated, ids continuing, due times kept", async ({ infra }) => {
    const url = new URL(infra.postgres.adminUrl);
    url.pathname = `/lt_${randomUUID().replaceAll("-", "").slice(0, 16)}`;
    await createDatabase(url.toString());
    const pool = createPool({ connectionString: url.toString(), max: 2 });
    try {
      expect(await migrate({ databaseUrl: url.toString(), count: BEFORE_0017 })).toHaveLength(BEFORE_0017);
      // 2,000 events over ten years from 1997 (a backfill of history), 400 stage changes.
      await pool.query(
        `INSERT INTO inbox_events (event_id, type, source, subject, event_time, data, topic, kafka_partition, kafka_offset, received_at)
         SELECT 'ev-' || n, 'purchase.completed', 'migration-test', 'c' || (n % 97),
                timestamptz '1997-01-01' + (n * interval '1 day 19 hours'), jsonb_build_object('orderId', 'o' || n, 'amount', n || '.50'),
                'purchase-events', n % 12, n, now() - (n * interval '1 minute')
           FROM generate_series(1, 2000) AS n`,
      );
      await pool.query(
        `INSERT INTO stage_transitions (customer_id, from_stage, to_stage, reason, event_time, clv_snapshot)
         SELECT 'c' || (n % 97), 'new', 'repeat', 'second purchase', timestamptz '2020-01-01' + (n * interval '5 days'), jsonb_build_object('n', n)
           FROM generate_series(1, 400) AS n`,
      );
      // A follow-up's outcome gets its due time from the outbox row.
      await pool.query(
        `INSERT INTO outbox (kind, dedupe_key, payload, published_at, due_at)
         VALUES ('follow-up', 'fu|thank-you|c1|first-purchase', '{"dueAt": "2026-05-01T10:00:00.000Z"}', now(), '2026-05-01T10:00:00Z')`,
      );
      await pool.query(
        `INSERT INTO job_outcomes (job_id, queue, job_name, customer_id, status, attempts) VALUES ('fu|thank-you|c1|first-purchase', 'q', 'follow-up', 'c1', 'sent', 1)`,
      );
      type Row = { event_id: string; type: string; source: string; subject: string; event_time: string; data: unknown; topic: string; kafka_partition: number; kafka_offset: number };
      const inbox = "SELECT to_jsonb(i) AS row FROM inbox_events i ORDER BY event_id";
      const transitions = "SELECT to_jsonb(t) AS row FROM stage_transitions t ORDER BY id";
      const inboxBefore = (await pool.query<{ row: Row }>(inbox)).rows;
      const monthsWithEvents = (await pool.query<{ n: number }>("SELECT count(DISTINCT date_trunc('month', event_time AT TIME ZONE 'UTC'))::int AS n FROM inbox_events")).rows[0]?.n ?? 0;
      expect(monthsWithEvents).toBeGreaterThan(100);
      const transitionsBefore = (await pool.query(transitions)).rows;

      expect(await migrate({ databaseUrl: url.toString() })).toContain("0017_retention-and-partitions");

      expect((await pool.query(inbox)).rows).toEqual(inboxBefore);
      expect((await pool.query(transitions)).rows).toEqual(transitionsBefore);
      // Every row in its month's partition: none left in a default partition.
      const count = async (sql: string) => (await pool.query<{ n: number }>(sql)).rows[0]?.n;
      expect(await count("SELECT count(*)::int AS n FROM inbox_events_default")).toBe(0);
      expect(await count("SELECT count(*)::int AS n FROM stage_transitions_default")).toBe(0);
      const months = await monthPartitions(pool, "inbox_events");
      expect(months.length).toBeGreaterThanOrEqual(monthsWithEvents);
      const january1997 = inboxBefore.filter(({ row }) => row.event_time.startsWith("1997-01")).length;
      expect(january1997).toBeGreaterThan(10);
      expect(await count("SELECT count(*)::int AS n FROM inbox_events_m1997_01")).toBe(january1997);
      // Every id is in event_ids: sent again, none is new.
      expect(await count("SELECT count(*)::int AS n FROM event_ids")).toBe(2000);
      const resent = inboxBefore.slice(0, 500).map(({ row }) => ({
        eventId: row.event_id, type: row.type, source: row.source, subject: row.subject, eventTime: row.event_time, data: row.data, topic: row.topic, partition: row.kafka_partition, offset: row.kafka_offset,
      }));
      expect((await createInboxRepo(pool).insertNew(resent)).size).toBe(0);
      // New stage changes continue the ids.
      const next = await pool.query<{ id: string }>(
        "INSERT INTO stage_transitions (customer_id, to_stage, reason, event_time, clv_snapshot) VALUES ('c1', 'at-risk', 'quiet', now(), '{}') RETURNING id",
      );
      expect(Number(next.rows[0]?.id)).toBe(401);
      const outcome = await pool.query<{ due_at: Date }>("SELECT due_at FROM job_outcomes WHERE job_id = 'fu|thank-you|c1|first-purchase'");
      expect(outcome.rows[0]?.due_at.toISOString()).toBe("2026-05-01T10:00:00.000Z");
    } finally {
      await pool.end();
      await dropDatabase(url.toString());
    }
  });
});
