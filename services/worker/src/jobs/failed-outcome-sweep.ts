import type { Job, Queue } from "bullmq";
import type { JobOutcomeRepo, Pool } from "@lifecycle/db";
import { FollowUpJob } from "@lifecycle/events";
import type { Logger } from "@lifecycle/logging";

/**
 * Records the outcome of follow-ups that failed for good without one. A final failure is recorded
 * by the worker's `failed` event, after BullMQ has moved the job to its failed set: a worker that
 * dies at that moment, or a database that is down then, leaves the job failed in Redis with no
 * outcome in Postgres, and nothing else would ever record one (the chaos soak found both). So
 * every `everyMs` this looks at each queue's failed jobs finished since its last look (minus a
 * margin; on start, the last `lookBackMs`) and records the outcome of those that have none.
 * Recording is idempotent, so two workers sweeping at once do no harm.
 */
export function createFailedOutcomeSweep({
  pool,
  queues,
  outcomes,
  logger,
  everyMs = 15_000,
  lookBackMs = 86_400_000,
}: {
  pool: Pool;
  queues: readonly Queue[];
  outcomes: Pick<JobOutcomeRepo, "record">;
  logger: Logger;
  everyMs?: number;
  lookBackMs?: number;
}) {
  const log = logger.child({ module: "failed-outcome-sweep" });
  const PAGE = 500;
  // Jobs that failed while the last sweep ran are looked at again.
  const MARGIN_MS = 5 * 60_000;
  let since = Date.now() - lookBackMs;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | undefined;

  /** The queue's failed jobs that finished at or after `from`, newest first. */
  async function failedSince(queue: Queue, from: number): Promise<Job[]> {
    const found: Job[] = [];
    for (let start = 0; ; start += PAGE) {
      const page = await queue.getFailed(start, start + PAGE - 1);
      const recent = page.filter((j) => (j.finishedOn ?? 0) >= from);
      found.push(...recent);
      if (page.length < PAGE || recent.length < page.length) return found;
    }
  }

  async function sweep(): Promise<number> {
    const startedAt = Date.now();
    let recorded = 0;
    for (const queue of queues) {
      const failed = (await failedSince(queue, since)).filter((j) => j.id !== undefined);
      if (failed.length === 0) continue;
      const { rows } = await pool.query<{ job_id: string }>(
        "SELECT id AS job_id FROM unnest($1::text[]) AS id WHERE NOT EXISTS (SELECT 1 FROM job_outcomes o WHERE o.job_id = id)",
        [failed.map((j) => j.id)],
      );
      const missing = new Set(rows.map((r) => r.job_id));
      for (const job of failed) {
        if (!job.id || !missing.has(job.id)) continue;
        const data = FollowUpJob.safeParse(job.data);
        await outcomes.record({
          jobId: job.id,
          queue: job.queueName,
          jobName: job.name,
          customerId: data.success ? data.data.customerId : "(invalid payload)",
          status: "failed",
          detail: job.failedReason,
          attempts: Math.max(1, job.attemptsMade),
        });
        recorded++;
      }
    }
    since = startedAt - MARGIN_MS;
    if (recorded > 0) log.warn({ recorded }, "recorded the outcome of follow-ups that had failed for good without one (a worker or the database was down as they failed)");
    return recorded;
  }

  const tick = () => {
    running ??= sweep()
      .catch((err: unknown) => {
        // Postgres or Redis away: the next tick looks again from the same point.
        log.warn({ err }, "failed-outcome sweep did not finish; trying again");
        return 0;
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  };

  return {
    /** One sweep now (or the one running); resolves with how many outcomes it recorded. */
    sweep: tick,
    start() {
      timer = setInterval(() => void tick(), everyMs);
      timer.unref();
      void tick();
    },
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
export type FailedOutcomeSweep = ReturnType<typeof createFailedOutcomeSweep>;
