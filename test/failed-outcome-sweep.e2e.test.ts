import { UnrecoverableError, Worker } from "bullmq";
import { FollowUpJob, followUpJobId, followUpQueue } from "@lifecycle/events";
import { createFollowUpQueues, createRedisConnection } from "@lifecycle/queue";
import { createWorkerService } from "@lifecycle/worker";
import { createTestLogger, describe, expect, test, uniqueName, waitFor } from "@lifecycle/testkit";

// Found by the chaos soak (issue 16): a follow-up that fails for good while the worker dies, or
// while Postgres is down, was left in BullMQ's failed set with no outcome, for ever. Here a bare
// BullMQ worker (which records nothing: a worker killed before its `failed` handler ran) fails the
// job for good; the worker service's sweep then records its outcome, once.
const logger = createTestLogger("failed-outcome-sweep");

describe("final failures without an outcome", { timeout: 60_000 }, () => {
  test("the sweep records the outcome of a job failed for good with none, from the job's own reason and attempts; a second sweep records nothing", async ({ infra, database }) => {
    const prefix = uniqueName("fsweep");
    const customerId = uniqueName("fs-cust");
    const connection = createRedisConnection(infra.redis.url, "fsweep");
    const queues = createFollowUpQueues({ connection, prefix });
    const now = new Date();
    const job = FollowUpJob.parse({
      customerId,
      playbook: "thank-you",
      trigger: "first-purchase",
      channel: "webhook",
      causationId: "e1",
      triggeredAt: now.toISOString(),
      dueAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + 86_400_000).toISOString(),
    });
    const jobId = followUpJobId(job);
    const dying = new Worker(followUpQueue("webhook"), async () => {
      throw new UnrecoverableError("no webhook address");
    }, { connection: createRedisConnection(infra.redis.url, "fsweep-dying"), prefix });
    const service = createWorkerService({ pool: database.pool, connection: createRedisConnection(infra.redis.url, "fsweep-worker"), prefix, concurrency: 1, logger, failedOutcomeSweepMs: 3_600_000 });
    try {
      await queues.addBulk([{ job, jobId, delayMs: 0 }]);
      await waitFor("the job to fail for good", async () => ((await queues.queues.webhook.getJobState(jobId)) === "failed" ? true : undefined), { timeoutMs: 15_000, intervalMs: 100 });
      await dying.close();
      const outcome = async () =>
        (await database.pool.query<{ status: string; detail: string; attempts: number; customer_id: string }>("SELECT status, detail, attempts, customer_id FROM job_outcomes WHERE job_id = $1", [jobId])).rows;
      expect(await outcome()).toEqual([]);

      // Started, it sweeps at once (the first sweep looks back a day); then by hand, nothing is left.
      await service.start();
      await waitFor("the outcome", async () => ((await outcome()).length ? true : undefined), { timeoutMs: 15_000, intervalMs: 100 });
      expect(await outcome()).toEqual([{ status: "failed", detail: "no webhook address", attempts: 1, customer_id: customerId }]);
      expect(await service.sweepFailedOutcomes()).toBe(0);
    } finally {
      await dying.close();
      await service.stop();
      await queues.obliterate().catch(() => undefined);
      await queues.close();
      connection.disconnect();
    }
  });
});
