import type { Kafka } from "kafkajs";
import type { Pool } from "@lifecycle/db";
import { consumerLag } from "@lifecycle/testkit/tools";
import { followUpsOwed } from "./check-follow-ups.js";

// After the last fault the stream stops and the system is given time to finish: the ingest group
// has committed everything, the relay has published every stage change and every due follow-up,
// and each follow-up due by the end of the stream has its outcome. Checked until it holds twice in
// a row, or the time is up (the checker then reports what is still missing).

export interface DrainResult {
  drained: boolean;
  ms: number;
  last: { lag: number | undefined; unpublished: number | undefined; owed: number | undefined };
}

export async function drain({ pool, kafka, groupId, topics, dueBy, prefix, timeoutMs, say }: { pool: Pool; kafka: Kafka; groupId: string; topics: readonly string[]; dueBy: Date; prefix: string; timeoutMs: number; say: (line: string) => void }): Promise<DrainResult> {
  const t0 = Date.now();
  let quietChecks = 0;
  let lastSaid = 0;
  const last: DrainResult["last"] = { lag: undefined, unpublished: undefined, owed: undefined };
  while (Date.now() - t0 < timeoutMs) {
    last.lag = await consumerLag(kafka, groupId, topics).catch(() => undefined);
    last.unpublished = await pool
      .query<{ n: number }>("SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL AND failed_at IS NULL AND (due_at IS NULL OR due_at <= now())")
      .then((r) => r.rows[0]?.n, () => undefined);
    last.owed = await followUpsOwed(pool, dueBy, prefix).catch(() => undefined);
    quietChecks = last.lag === 0 && last.unpublished === 0 && last.owed === 0 ? quietChecks + 1 : 0;
    if (quietChecks >= 2) return { drained: true, ms: Date.now() - t0, last };
    if (Date.now() - lastSaid > 10_000) {
      lastSaid = Date.now();
      say(`draining: lag ${last.lag ?? "?"}, unpublished ${last.unpublished ?? "?"}, follow-ups owed ${last.owed ?? "?"}`);
    }
    await new Promise((r) => setTimeout(r, 1_000));
  }
  return { drained: false, ms: Date.now() - t0, last };
}
