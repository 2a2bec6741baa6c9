import { FollowUpJob, StageChanged } from "@lifecycle/events";
import { withTransaction, type OutboxRepo, type Pool } from "@lifecycle/db";
import type { Logger } from "@lifecycle/logging";
import type { FollowUpQueues, FollowUpToQueue } from "@lifecycle/queue";

export interface OutboxRelayDeps {
  pool: Pool;
  outbox: OutboxRepo;
  followUps: FollowUpQueues;
  /** The engine's clock: a follow-up waits until it is due by this clock. */
  now: () => Promise<Date>;
  /** Publishes stage changes (CloudEvents) to `lifecycle-stage-changed`, keyed by customer. */
  publishStageChanges: (events: readonly StageChanged[]) => Promise<void>;
  logger: Logger;
  /** Poll interval when idle; `wake()` publishes sooner. @defaultValue 500 */
  idleMs?: number;
  batchSize?: number;
}

/**
 * Publishes outbox rows: claims a batch (FOR UPDATE SKIP LOCKED, so replicas share the work),
 * publishes each, and marks them published in the same transaction. If publishing fails the
 * transaction rolls back and the rows are retried later: delivery is at-least-once, and the
 * effects are idempotent (a follow-up's BullMQ job id is its dedupe key; a stage change keeps
 * its CloudEvents id).
 */
export function createOutboxRelay({ pool, outbox, followUps, now, publishStageChanges, logger, idleMs = 500, batchSize = 500 }: OutboxRelayDeps) {
  const log = logger.child({ module: "outbox-relay" });
  let running = false;
  let loop: Promise<void> | undefined;
  let wakeUp: (() => void) | undefined;
  let failures = 0;

  const publishBatch = () =>
    withTransaction(pool, async (tx) => {
      const rows = await outbox.claim(batchSize, tx);
      const stageChanges: StageChanged[] = [];
      const jobs: FollowUpToQueue[] = [];
      const at = rows.length ? (await now()).getTime() : 0;
      for (const row of rows) {
        if (row.kind === "follow-up") {
          const job = FollowUpJob.parse(row.payload);
          jobs.push({ job, jobId: row.dedupeKey, delayMs: Date.parse(job.dueAt) - at });
        } else if (row.kind === "stage-changed") stageChanges.push(StageChanged.parse(row.payload));
        else throw new Error(`outbox row ${row.id} has unknown kind ${row.kind}`);
      }
      if (jobs.length) await followUps.addBulk(jobs);
      // In claim order; one send for the batch. A crash after the send and before the commit
      // sends them again with the same event ids: consumers dedupe on the CloudEvents id.
      if (stageChanges.length) await publishStageChanges(stageChanges);
      await outbox.markPublished(rows.map((r) => r.id), tx);
      return rows.length;
    });

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  async function run() {
    while (running) {
      try {
        const n = await publishBatch();
        failures = 0;
        if (n === batchSize) continue; // more waiting: go on at once
      } catch (err) {
        failures++;
        log.warn({ err, failures }, "outbox publish failed; retrying");
      }
      await sleep(failures ? Math.min(10_000, 200 * 2 ** failures) : idleMs);
    }
  }

  return {
    start() {
      running = true;
      loop = run();
    },
    /** Publish soon: called after a transaction wrote outbox rows. */
    wake() {
      wakeUp?.();
    },
    async stop() {
      running = false;
      wakeUp?.();
      await loop;
    },
  };
}
export type OutboxRelay = ReturnType<typeof createOutboxRelay>;
