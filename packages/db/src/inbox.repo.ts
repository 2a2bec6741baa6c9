import type { Queryable } from "./pool.js";

export interface InboxEvent {
  eventId: string;
  type: string;
  source: string;
  subject: string;
  eventTime: string;
  data: unknown;
  topic: string;
  partition: number;
  offset: number;
}

/**
 * A batch's events, recorded once each: the ids are claimed in `event_ids` (the md5 of the
 * CloudEvents id, kept for the dedupe window), and only the events whose id was new have their
 * payload stored in `inbox_events` (partitioned by event time, dropped with its month). An id
 * repeated within the batch is stored once, its first occurrence. Returns the new ids.
 */
const INSERT_NEW = `
WITH batch AS (
  SELECT r.*, md5(r.event_id)::uuid AS event_key
    FROM ROWS FROM (jsonb_to_recordset($1::jsonb) AS (event_id text, type text, source text, subject text,
         event_time timestamptz, data jsonb, topic text, kafka_partition int, kafka_offset bigint)) WITH ORDINALITY
      AS r(event_id, type, source, subject, event_time, data, topic, kafka_partition, kafka_offset, n)
), fresh AS (
  INSERT INTO event_ids (event_key) SELECT DISTINCT event_key FROM batch
  ON CONFLICT (event_key) DO NOTHING
  RETURNING event_key
)
INSERT INTO inbox_events (event_id, type, source, subject, event_time, data, topic, kafka_partition, kafka_offset)
SELECT DISTINCT ON (event_key) event_id, type, source, subject, event_time, data, topic, kafka_partition, kafka_offset
  FROM batch WHERE event_key IN (SELECT event_key FROM fresh)
 ORDER BY event_key, n
RETURNING event_id`;

/** The record of accepted events, keyed by CloudEvents id (the idempotency key). */
export function createInboxRepo(db: Queryable) {
  return {
    /**
     * Inserts a batch in one statement; events already recorded are left alone.
     * Returns the ids that were new, i.e. the events this call must act on.
     */
    async insertNew(events: readonly InboxEvent[], tx: Queryable = db): Promise<Set<string>> {
      if (events.length === 0) return new Set();
      const rows = events.map((e) => ({
        event_id: e.eventId,
        type: e.type,
        source: e.source,
        subject: e.subject,
        event_time: e.eventTime,
        data: e.data,
        topic: e.topic,
        kafka_partition: e.partition,
        kafka_offset: e.offset,
      }));
      const result = await tx.query<{ event_id: string }>(INSERT_NEW, [JSON.stringify(rows)]);
      return new Set(result.rows.map((r) => r.event_id));
    },

    async countBySubject(subject: string, tx: Queryable = db): Promise<number> {
      const result = await tx.query<{ n: number }>("SELECT count(*)::int AS n FROM inbox_events WHERE subject = $1", [subject]);
      return result.rows[0]?.n ?? 0;
    },
  };
}

export type InboxRepo = ReturnType<typeof createInboxRepo>;
