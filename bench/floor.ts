// The Postgres floor, measured in the same run as the service: the least work any ingest of these
// events must do, in one session with synchronous_commit on. Per transaction of 2,000 events:
// COPY into a staging table, insert each event once into an inbox-shaped table (event_id primary
// key, ON CONFLICT DO NOTHING), and upsert per-customer count, sum and max. Beside it, a bare COPY
// of the same inbox rows (2,000 a transaction, no staging, no customers): what the disk and the
// indexes alone allow.
import pg from "pg";
import type { CloudEventEnvelope } from "@lifecycle/events";
import { copyFrom, copyText } from "./copy-in.js";
import { fmt as n } from "./format.js";

export const FLOOR_CHUNK = 2_000;

const INBOX_COLUMNS = `event_id text PRIMARY KEY, type text NOT NULL, source text NOT NULL, subject text NOT NULL, event_time timestamptz NOT NULL,
  data jsonb NOT NULL, topic text NOT NULL, kafka_partition integer NOT NULL, kafka_offset bigint NOT NULL, received_at timestamptz NOT NULL DEFAULT now()`;
const COLUMNS = "event_id, type, source, subject, event_time, data, topic, kafka_partition, kafka_offset";

const SCHEMA = `
CREATE TABLE floor_inbox (${INBOX_COLUMNS});
CREATE INDEX ON floor_inbox (subject, event_time);
CREATE TABLE floor_copy (${INBOX_COLUMNS});
CREATE INDEX ON floor_copy (subject, event_time);
CREATE TABLE floor_customers (customer_id text PRIMARY KEY, events integer NOT NULL, amount numeric NOT NULL, last_event_at timestamptz NOT NULL);
CREATE TEMP TABLE floor_staging (event_id text, type text, source text, subject text, event_time timestamptz, data jsonb, topic text, kafka_partition integer, kafka_offset bigint) ON COMMIT DELETE ROWS;`;

const APPLY = `
WITH inserted AS (
  INSERT INTO floor_inbox (${COLUMNS}) SELECT ${COLUMNS} FROM floor_staging ON CONFLICT (event_id) DO NOTHING
  RETURNING subject, type, data, event_time)
INSERT INTO floor_customers AS c (customer_id, events, amount, last_event_at)
SELECT subject, count(*), sum(CASE WHEN type = 'purchase.completed' THEN (data->>'amount')::numeric ELSE 0 END), max(event_time)
  FROM inserted GROUP BY subject
ON CONFLICT (customer_id) DO UPDATE SET events = c.events + excluded.events, amount = c.amount + excluded.amount,
  last_event_at = greatest(c.last_event_at, excluded.last_event_at)`;

/** Up to FLOOR_CHUNK events as COPY text rows. */
function chunkOf(events: Iterator<CloudEventEnvelope>, offset: number): { data: Buffer; rows: number } {
  const lines: string[] = [];
  while (lines.length < FLOOR_CHUNK) {
    const r = events.next();
    if (r.done) break;
    const e = r.value;
    lines.push([e.id, e.type, e.source, e.subject, e.time, JSON.stringify(e.data), "floor", "0", String(offset + lines.length)].map(copyText).join("\t"));
  }
  return { data: Buffer.from(lines.length ? `${lines.join("\n")}\n` : ""), rows: lines.length };
}

function* take<T>(items: Iterable<T>, limit: number): Generator<T> {
  let i = 0;
  for (const item of items) {
    if (i++ >= limit) return;
    yield item;
  }
}

export interface FloorResult {
  events: number;
  seconds: number;
  perSecond: number;
  bareCopy: { rows: number; seconds: number; perSecond: number };
  synchronousCommit: string;
}

/**
 * Runs `work` over `events` chunk by chunk. `work` calls `between` once a statement is in flight,
 * so the next chunk is built while Postgres works (and not counted against it). Progress every 5 s.
 */
async function inChunks(events: Iterable<CloudEventEnvelope>, work: (data: Buffer, between: () => void) => Promise<void>, progress: (done: number, seconds: number) => void) {
  const it = events[Symbol.iterator]();
  const t0 = performance.now();
  let done = 0;
  let lastPrint = t0;
  let next = chunkOf(it, 0);
  while (next.rows > 0) {
    const current = next;
    let built = false;
    const between = () => {
      if (built) return;
      built = true;
      next = chunkOf(it, done + current.rows);
    };
    await work(current.data, between);
    between();
    done += current.rows;
    if (performance.now() - lastPrint >= 5_000) {
      lastPrint = performance.now();
      progress(done, (lastPrint - t0) / 1000);
    }
  }
  return { done, seconds: (performance.now() - t0) / 1000 };
}

/** Measures the floor and the bare COPY on a database of its own (`url`, which must exist and be empty). */
export async function measureFloor({ url, events, limit, say }: { url: string; events: () => Iterable<CloudEventEnvelope>; limit: number; say: (line: string) => void }): Promise<FloorResult> {
  const client = new pg.Client({ connectionString: url, application_name: "bench-floor" });
  await client.connect();
  try {
    await client.query(SCHEMA);
    const synchronousCommit = (await client.query<{ s: string }>("SELECT current_setting('synchronous_commit') AS s")).rows[0]?.s ?? "?";
    const floor = await inChunks(take(events(), limit), async (data, between) => {
      await client.query("BEGIN");
      await copyFrom(client, "COPY floor_staging FROM STDIN", data);
      const applying = client.query(APPLY);
      between();
      await applying;
      await client.query("COMMIT");
    }, (done, s) => say(`(floor) ${n(done)}/${n(limit)} events, ${n(done / s)}/s`));
    const bare = await inChunks(take(events(), limit), async (data, between) => {
      await client.query("BEGIN");
      await copyFrom(client, `COPY floor_copy (${COLUMNS}) FROM STDIN`, data);
      const committing = client.query("COMMIT");
      between();
      await committing;
    }, (done, s) => say(`(floor) bare COPY ${n(done)}/${n(limit)} rows, ${n(done / s)}/s`));
    const counted = (await client.query<{ inbox: number; copied: number }>("SELECT (SELECT count(*)::int FROM floor_inbox) AS inbox, (SELECT count(*)::int FROM floor_copy) AS copied")).rows[0];
    if (counted?.copied !== bare.done) throw new Error(`floor: copied ${bare.done} rows but the table holds ${counted?.copied}`);
    return {
      events: floor.done,
      seconds: floor.seconds,
      perSecond: floor.done / floor.seconds,
      bareCopy: { rows: bare.done, seconds: bare.seconds, perSecond: bare.done / bare.seconds },
      synchronousCommit,
    };
  } finally {
    await client.end();
  }
}
