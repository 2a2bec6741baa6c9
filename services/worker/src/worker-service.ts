import { UnrecoverableError, Worker, type Job } from "bullmq";
import { CHANNELS, channelOfQueue, FollowUpJob, followUpJobParts, followUpQueue, followUpRetryDelayMs, JOB_CATALOG, type ChannelName, type JobName, type RetrySchedule } from "@lifecycle/events";
import { createConsentRepo, createJobOutcomeRepo, createOutboxRepo, type Pool } from "@lifecycle/db";
import { EngineSettings } from "@lifecycle/domain";
import { createClock, type Clock } from "@lifecycle/engine";
import type { Logger } from "@lifecycle/logging";
import { createFollowUpQueues, type Redis } from "@lifecycle/queue";
import { loadFollowUpTemplates, type FollowUpTemplates } from "@lifecycle/templates";
import type { Channel } from "./channels/channel.js";
import { createCircuitBreaker, type CircuitSettings } from "./channels/circuit-breaker.js";
import { ChannelOpenError, guardChannel } from "./channels/guarded-channel.js";
import { suppressOnHardBounce } from "./channels/hard-bounce.js";
import { createLogChannel } from "./channels/log.channel.js";
import type { JobHandlers } from "./jobs/catalog.js";
import { createFailedOutcomeSweep } from "./jobs/failed-outcome-sweep.js";
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
  /** Follow-up templates, loaded (and checked) by main.ts at start-up. @defaultValue the shipped defaults, loaded on first use */
  templates?: FollowUpTemplates;
  /** The retry schedule of failed deliveries. @defaultValue DEFAULT_RETRY (10 s doubling up to 1 h) */
  retry?: RetrySchedule;
  /** Each channel's circuit breaker. @defaultValue DEFAULT_CIRCUIT (5 failures in a row; 10 s doubling up to 5 min) */
  circuit?: CircuitSettings;
  /** How often final failures without an outcome are looked for (failed-outcome-sweep.ts). @defaultValue 15000 */
  failedOutcomeSweepMs?: number;
}

export const DEFAULT_RETRY: RetrySchedule = { baseMs: 10_000, maxMs: 3_600_000 };
export const DEFAULT_CIRCUIT: CircuitSettings = { threshold: 5, openMs: 10_000, maxOpenMs: 300_000 };
/** BullMQ honours a manual rate limit (the open circuit's pause) only on a queue with a limiter. */
const UNLIMITED_PER_SECOND = 100_000;

function isJobName(name: string): name is JobName {
  return Object.hasOwn(JOB_CATALOG, name);
}

/**
 * Runs the follow-up queues' jobs, one BullMQ worker per channel so each has its own rate
 * limit; main.ts and the integration tests build it through here. A job that fails its last
 * attempt stays in its queue's failed set (retryable from there) and its outcome is recorded.
 */
export function createWorkerService(deps: WorkerServiceDeps) {
  const { pool, connection, prefix, concurrency, logger, clock = createClock({ mode: "wall" }), settings = EngineSettings.parse({}), channels = {}, rateLimits = {}, unsubscribe } = deps;
  const { retry = DEFAULT_RETRY, circuit = DEFAULT_CIRCUIT } = deps;
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
  // One circuit breaker per channel: an outage pauses that channel's queue (in every worker
  // process: BullMQ keeps the pause in Redis), and its jobs wait without being charged attempts.
  const pauses = new Map<ChannelName, (ms: number) => Promise<void>>();
  const available: Partial<Record<ChannelName, Channel>> = { log: createLogChannel(logger), ...channels };
  const guarded: Partial<Record<ChannelName, Channel>> = {};
  const consents = createConsentRepo(pool);
  for (const name of CHANNELS) {
    const channel = available[name];
    if (!channel) continue;
    const breaker = createCircuitBreaker(circuit);
    metrics.watchCircuit(name, breaker);
    // A hard bounce suppresses the channel for the customer; it is the receiver answering, so the breaker counts it as a success.
    guarded[name] = guardChannel(suppressOnHardBounce(channel, consents), breaker, (ms) => {
      metrics.circuitOpened.inc({ channel: name });
      log.warn({ channel: name, pauseMs: ms }, "channel failing: circuit open, its jobs wait");
      void pauses.get(name)?.(ms).catch((err: unknown) => log.warn({ err, channel: name }, "could not pause the queue"));
    });
  }
  const handlers: JobHandlers = {
    "follow-up": createFollowUpHandler({ pool, outcomes, channels: guarded, clock, settings, outbox: createOutboxRepo(pool), unsubscribe, templates: deps.templates ?? loadFollowUpTemplates() }),
  };

  const workerFor = (channel: ChannelName) => {
    const perSecond = rateLimits[channel] ?? UNLIMITED_PER_SECOND;
    const worker: Worker = new Worker(
      followUpQueue(channel),
      async (job: Job, token?: string) => {
        if (!isJobName(job.name)) throw new Error(`no handler for job ${job.name}`);
        try {
          // The lock token lets a handler move its job back to the delayed set (quiet hours).
          await handlers[job.name](job, token);
        } catch (err) {
          if (!(err instanceof ChannelOpenError)) throw err;
          // Back to the queue, no attempt charged; the queue pauses until the next probe.
          await worker.rateLimit(err.retryInMs);
          throw Worker.RateLimitError();
        }
      },
      {
        connection,
        prefix,
        concurrency,
        autorun: false,
        limiter: { max: perSecond, duration: 1000 },
        settings: { backoffStrategy: (attemptsMade: number) => followUpRetryDelayMs(attemptsMade, retry) },
      },
    );
    pauses.set(channel, (ms) => worker.rateLimit(ms));
    worker.on("failed", (job, err) => {
      if (!job) return;
      // UnrecoverableError (and PermanentDeliveryError, its subclass) ends the job at once.
      const exhausted = job.attemptsMade >= (job.opts.attempts ?? 1);
      const final = exhausted || err instanceof UnrecoverableError;
      log.warn({ jobId: job.id, attempt: job.attemptsMade, final, err }, "job failed");
      if (!final) return;
      const parsed = FollowUpJob.safeParse(job.data);
      // Every retry used up: the alert metric (a permanent refusal is an outcome, not an alert).
      if (exhausted && !(err instanceof UnrecoverableError)) metrics.retriesExhausted.inc({ channel, playbook: parsed.success ? parsed.data.playbook : "unknown" });
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
  // The `failed` event above records a final failure; this catches the ones it could not.
  const failedSweep = createFailedOutcomeSweep({ pool, queues: Object.values(followUps.queues), outcomes, logger, ...(deps.failedOutcomeSweepMs === undefined ? {} : { everyMs: deps.failedOutcomeSweepMs }) });

  return {
    workers,
    followUps,
    metrics,
    async start() {
      for (const w of workers) void w.run();
      await Promise.all(workers.map((w) => w.waitUntilReady()));
      failedSweep.start();
    },
    /** Records the outcomes of final failures that have none now (also done every `failedOutcomeSweepMs`). */
    sweepFailedOutcomes: () => failedSweep.sweep(),
    async stop() {
      await failedSweep.stop();
      await Promise.all(workers.map((w) => w.close()));
      await followUps.close();
    },
  };
}
export type WorkerService = ReturnType<typeof createWorkerService>;
export { createWorkerMetrics, type WorkerMetrics } from "./worker-metrics.js";
