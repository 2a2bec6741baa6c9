import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { mkdir, open, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { createGzip } from "node:zlib";
import type { Queryable } from "../pool.js";
import { quoteIdent } from "./partitions.js";

// Each stored event as the CloudEvent it arrived as (the subject as sent, the data as stored: an
// erased customer's events are already scrubbed), one JSON object per line: what `npm run replay`
// reads. The time keeps the stored microseconds.
const EVENT_LINES = (partition: string) => `
SELECT json_build_object(
         'specversion', '1.0', 'id', event_id, 'source', source, 'type', type, 'subject', subject,
         'time', to_char(event_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), 'data', data)::text AS line
  FROM ${quoteIdent(partition)}`;

const FETCH_ROWS = 2_000;

/**
 * Writes every event of one inbox partition to `<dir>/<partition>.<stamp>.jsonl.gz` (JSON lines,
 * gzip), read through a cursor so a month of events never sits in memory. Runs in the caller's
 * transaction, which must hold a lock that keeps rows from arriving meanwhile (the retention run
 * locks the partition, then drops it in the same transaction). The file appears under its final
 * name only once complete. Resolves with its path and the number of events.
 */
export async function archivePartition(tx: Queryable, { partition, dir, stamp }: { partition: string; dir: string; stamp: string }): Promise<{ file: string; events: number }> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, `${partition}.${stamp}.jsonl.gz`);
  const partial = `${file}.partial`;
  const gzip = createGzip();
  const out = createWriteStream(partial);
  gzip.pipe(out);
  const cursor = `archive_${partition.replace(/\W/g, "_")}`;
  let events = 0;
  try {
    await tx.query(`DECLARE ${cursor} NO SCROLL CURSOR FOR ${EVENT_LINES(partition)}`);
    for (;;) {
      const r = await tx.query<{ line: string }>(`FETCH ${FETCH_ROWS} FROM ${cursor}`);
      if (r.rows.length === 0) break;
      events += r.rows.length;
      if (!gzip.write(r.rows.map((row) => row.line).join("\n") + "\n")) await once(gzip, "drain");
    }
    await tx.query(`CLOSE ${cursor}`);
    gzip.end();
    await once(out, "close");
    // On disk before the caller drops the rows: the file, then its name in the directory.
    await fsync(partial);
    await rename(partial, file);
    await fsync(dir);
    return { file, events };
  } catch (err) {
    gzip.destroy();
    out.destroy();
    await rm(partial, { force: true });
    throw err;
  }
}

async function fsync(path: string): Promise<void> {
  const handle = await open(path, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
