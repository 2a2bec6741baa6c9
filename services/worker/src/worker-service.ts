import { Worker, type Job } from "bullmq";
import { JOB_CATALOG, QUEUES, FollowUpJob, type JobName } from "@lifecycle/events";
import { createJobOutcomeRepo, type Pool } from "@lifecycle/db";
import type { Logger } from "@lifecycle/logging";
import type { Redis } from "@lifecycle/queue";
import { createLogChannel } from "./channels/log.channel.js";
import type { JobHandlers } from "./jobs/catalog.js";
import { createFollowUpHandler } from "./jobs/follow-up.job.js";

export interface WorkerServiceDeps {
  pool: Pool;
  connection: Redis;
  prefix: string;
  concurrency: number;
  logger: Logger;
}

function isJobName(name: string): name is JobName {
  return Object.hasOwn(JOB_CATALOG, name);
}

/** Runs the follow-up queue's jobs; main.ts and the integration tests build it through here. */
export function createWorkerService({ pool, connection, prefix, concurrency, logger }: WorkerServiceDeps) {
  const log = logger.child({ module: "worker" });
  const outcomes = createJobOutcomeRepo(pool);
  const handlers: JobHandlers = {
    "follow-up": createFollowUpHandler({ outcomes, channels: { log: createLogChannel(logger) } }),
  };

  const worker = new Worker(
    QUEUES.followUps,
    async (job: Job) => {
      if (!isJobName(job.name)) throw new Error(`no handler for job ${job.name}`);
      await handlers[job.name](job);
    },
    { connection, prefix, concurrency, autorun: false },
  );

  worker.on("failed", (job, err) => {
    if (!job) return;
    const final = job.attemptsMade >= (job.opts.attempts ?? 1) || err.name === "UnrecoverableError";
    log.warn({ jobId: job.id, attempt: job.attemptsMade, final, err }, "job failed");
    if (!final) return;
    const parsed = FollowUpJob.safeParse(job.data);
    void outcomes
      .record({
        jobId: job.id ?? "",
        queue: job.queueName,
        jobName: job.name,
        customerId: parsed.success ? parsed.data.customerId : "(invalid payload)",
        status: "failed",
        detail: err.message,
        attempts: Math.max(1, job.attemptsMade),
      })
      .catch((e: unknown) => log.error({ err: e, jobId: job.id }, "could not record a failed outcome"));
  });
  worker.on("error", (err) => log.error({ err }, "worker error"));

  return {
    worker,
    start() {
      void worker.run();
      return worker.waitUntilReady();
    },
    stop: () => worker.close(),
  };
}
export type WorkerService = ReturnType<typeof createWorkerService>;
