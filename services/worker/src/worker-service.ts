import { UnrecoverableError, Worker, type Job } from "bullmq";
import { CHANNELS, channelOfQueue, FollowUpJob, followUpJobParts, followUpQueue, JOB_CATALOG, type ChannelName, type JobName } from "@lifecycle/events";
import { createJobOutcomeRepo, type Pool } from "@lifecycle/db";
import { EngineSettings } from "@lifecycle/domain";
import { createClock, type Clock } from "@lifecycle/engine";
import type { Logger } from "@lifecycle/logging";
import { createFollowUpQueues, type Redis } from "@lifecycle/queue";
import type { Channel } from "./channels/channel.js";
import { createLogChannel } from "./channels/log.channel.js";
import type { JobHandlers } from "./jobs/catalog.js";
import { createFollowUpHandler, type FollowUpDeps } from "./jobs/follow-up.job.js";
import { createWorkerMetrics } from "./worker-metrics.js";

export interface WorkerServiceDeps {
  pool: Pool;
  connection: Redis;
  prefix: string;
  /** Jobs run at once per channel. */
  concurrency: number;
  logger: Logger;
  /** The engine's clock (expiry checks). @defaultValue wall */
  clock?: Clock;
  /** @defaultValue the contract's defaults */
  settings?: EngineSettings;
  /** Configured channels; the log channel is always there unless replaced here. */
  channels?: Partial<Record<ChannelName, Channel>>;
  /** Jobs per second per channel (BullMQ's limiter, per queue). */
  rateLimits?: Partial<Record<ChannelName, number>>;
  /** Signs one-click unsubscribe links in marketing e-mail (see FollowUpDeps). */
  unsubscribe?: FollowUpDeps["unsubscribe"];
}

function isJobName(name: string): name is JobName {
  return Object.hasOwn(JOB_CATALOG, name);
}

/**
 * Runs the follow-up queues' jobs, one BullMQ worker per channel so each has its own rate
 * limit; main.ts and the integration tests build it through here. A job that fails its last
 * attempt stays in its queue's failed set (retryable from there) and its outcome is recorded.
 */
export function createWorkerService({ pool, connection, prefix, concurrency, logger, clock = createClock({ mode: "wall" }), settings = EngineSettings.parse({}), channels = {}, rateLimits = {}, unsubscribe }: WorkerServiceDeps) {
  const log = logger.child({ module: "worker" });
  const repo = createJobOutcomeRepo(pool);
  const followUps = createFollowUpQueues({ connection, prefix });
  const metrics = createWorkerMetrics(Object.values(followUps.queues));
  // Every recorded outcome is counted too.
  const outcomes: typeof repo = {
    ...repo,
    async record(o, tx) {
      await repo.record(o, tx);
      metrics.outcomes.inc({ playbook: followUpJobParts(o.jobId)?.playbook ?? "unknown", channel: channelOfQueue(o.queue), status: o.status });
    },
  };
  const handlers: JobHandlers = {
    "follow-up": createFollowUpHandler({ pool, outcomes, channels: { log: createLogChannel(logger), ...channels }, clock, settings, followUps, unsubscribe }),
  };

  const workerFor = (channel: ChannelName) => {
    const perSecond = rateLimits[channel];
    const worker = new Worker(
      followUpQueue(channel),
      async (job: Job, token?: string) => {
        if (!isJobName(job.name)) throw new Error(`no handler for job ${job.name}`);
        // The lock token lets a handler move its job back to the delayed set (quiet hours).
        await handlers[job.name](job, token);
      },
      { connection, prefix, concurrency, autorun: false, ...(perSecond ? { limiter: { max: perSecond, duration: 1000 } } : {}) },
    );
    worker.on("failed", (job, err) => {
      if (!job) return;
      // UnrecoverableError (and PermanentDeliveryError, its subclass) ends the job at once.
      const final = job.attemptsMade >= (job.opts.attempts ?? 1) || err instanceof UnrecoverableError;
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
    worker.on("error", (err) => log.error({ err, channel }, "worker error"));
    return worker;
  };
  const workers = CHANNELS.map(workerFor);

  return {
    workers,
    followUps,
    metrics,
    async start() {
      for (const w of workers) void w.run();
      await Promise.all(workers.map((w) => w.waitUntilReady()));
    },
    async stop() {
      await Promise.all(workers.map((w) => w.close()));
      await followUps.close();
    },
  };
}
export type WorkerService = ReturnType<typeof createWorkerService>;
export { createWorkerMetrics, type WorkerMetrics } from "./worker-metrics.js";
