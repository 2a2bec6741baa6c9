import type { Queue } from "bullmq";
import { FollowUpJob, withoutPersonalContext } from "@lifecycle/events";

export interface ErasedJobs {
  /** Jobs removed, payload and all: waiting, delayed, prioritized, completed or failed. */
  queuedJobs: number;
  /** Jobs running (locked by a worker, so BullMQ will not remove them) whose payload was scrubbed instead. */
  runningJobs: number;
}

/**
 * Removes an erased customer's follow-up jobs from BullMQ, in every state, so no payload of theirs
 * (a birthday gift's birthday, for up to a year) stays in Redis or in Bull Board. A finished job
 * would otherwise stay 7–30 days. `jobIds` are the customer's follow-ups as Postgres knows them
 * (every follow-up is an outbox row whose dedupe key is its job id, and every run one has an
 * outcome), so no queue is listed in full.
 *
 * A running job is locked by its worker and cannot be removed; its payload is scrubbed in place
 * (the worker holds its own copy, and does not send to an erased customer: follow-up.job.ts), and
 * it ends as a completed or failed job without the personal context. Run after the erasure's
 * transaction has committed: the outbox rows are given up by then, so nothing adds the jobs again.
 */
export async function eraseFollowUpJobs(queues: readonly Queue[], jobIds: readonly string[]): Promise<ErasedJobs> {
  const erased: ErasedJobs = { queuedJobs: 0, runningJobs: 0 };
  for (const queue of queues) {
    for (const id of jobIds) {
      const job = await queue.getJob(id);
      if (!job) continue;
      try {
        await job.remove();
        erased.queuedJobs++;
      } catch (err) {
        // Refused for the lock of a worker running it (it may have started since it was looked up).
        if ((await job.getState()) !== "active") throw err;
        const parsed = FollowUpJob.safeParse(job.data);
        // An unparseable payload fails in the worker at once; nothing of it is needed.
        await job.updateData(parsed.success ? withoutPersonalContext(parsed.data) : {});
        erased.runningJobs++;
      }
    }
  }
  return erased;
}
