import { Queue, Worker, type Job } from "bullmq";
import { createOutboxRepo, dedupeWindowDays, defaultRetention, runRetention, type Pool, type RetentionSettings } from "@lifecycle/db";
import type { EngineSettings } from "@lifecycle/domain";
import { createAnnualChurnCache, createModelCache, createModelsRepo, refitModels, sweepDueCustomers, type Clock } from "@lifecycle/engine";
import { QUEUES } from "@lifecycle/events";
import { longestKept, type TopicRetention } from "@lifecycle/kafka";
import type { Logger } from "@lifecycle/logging";
import type { Redis } from "@lifecycle/queue";
import { Registry } from "prom-client";
import { createRefitMetrics } from "./refit-metrics.js";
import { createRetentionMetrics } from "./retention-metrics.js";

export interface MaintenanceDeps {
  pool: Pool;
  connection: Redis;
  prefix: string;
  logger: Logger;
  clock: Clock;
  settings: EngineSettings;
  /** How long the fitted models and the annual churn are cached (CLV_MODEL_CACHE_MS). */
  modelCacheMs: number;
  /** How often the stage sweep runs. */
  sweepEveryMs: number;
  /** How often the CLV models are refitted. */
  refitEveryMs: number;
  /** Delay of the first refit after start when no model exists yet. @defaultValue 5000 */
  initialRefitDelayMs?: number;
  /** The refit's fit guard minimum and holdout share (refitSettings). @defaultValue the refit's defaults */
  refit?: { minRepeatBuyers: number; holdoutShare: number };
  /** What retention keeps, and how often it runs (retentionEnv). @defaultValue defaultRetention() */
  retention?: RetentionSettings & { everyMs: number };
  /**
   * How long the input topics keep events (describeTopicRetention): event ids are kept at least as
   * long, whatever EVENT_DEDUPE_WINDOW_DAYS says. @defaultValue none: the setting alone decides
   */
  inputTopicRetention?: () => Promise<readonly TopicRetention[]>;
  /** Delay of the retention run after start (which also makes the months ahead). @defaultValue 10000 */
  initialRetentionDelayMs?: number;
  /** Where the refit's metric is registered: the process's /metrics registry. @defaultValue a registry of its own */
  registry?: Registry;
}

/**
 * The engine's scheduled work on a BullMQ queue: the stage sweep (time-driven transitions), the
 * CLV refit and retention (partitions ahead, old data out). BullMQ job schedulers produce one job
 * per interval however many workers run; the sweep's and retention's advisory locks keep each to
 * one runner at a time even if two jobs overlap.
 */
export function createMaintenanceService({ pool, connection, prefix, logger, clock, settings, modelCacheMs, sweepEveryMs, refitEveryMs, initialRefitDelayMs = 5_000, refit, retention = defaultRetention(), inputTopicRetention, initialRetentionDelayMs = 10_000, registry = new Registry() }: MaintenanceDeps) {
  const log = logger.child({ module: "maintenance" });
  const outbox = createOutboxRepo(pool);
  const repo = createModelsRepo(pool);
  const cache = createModelCache({ repo, ttlMs: modelCacheMs });
  // The sweep measures the annual churn and invalidates this cache when it stores a new measurement.
  const churn = createAnnualChurnCache({ ttlMs: modelCacheMs });
  const queue = new Queue(QUEUES.maintenance, { connection, prefix });
  const metrics = createRefitMetrics(registry);
  const retentionMetrics = createRetentionMetrics(registry);

  /** The dedupe window of this run: the setting, or as long as an input topic can hold an event. */
  const dedupeDays = async (jobLog: Logger): Promise<number> => {
    if (!inputTopicRetention) return retention.dedupeDays;
    let kept: ReturnType<typeof longestKept>;
    try {
      kept = longestKept(await inputTopicRetention());
    } catch (err) {
      jobLog.warn({ err, dedupeDays: retention.dedupeDays }, "retention: could not read the input topics' retention; event ids are kept EVENT_DEDUPE_WINDOW_DAYS");
      return retention.dedupeDays;
    }
    const days = dedupeWindowDays(retention.dedupeDays, kept?.ms);
    if (days > retention.dedupeDays) {
      // A record read again (a reset group offset) must still be a duplicate: keep its id while the topic keeps it.
      jobLog.warn(
        { configuredDays: retention.dedupeDays, days: Number.isFinite(days) ? days : "unlimited", topic: kept?.topic },
        "retention: EVENT_DEDUPE_WINDOW_DAYS is shorter than an input topic keeps events; event ids are kept as long as the topic keeps them",
      );
    }
    return days;
  };

  const run = async (job: Job) => {
    // Every run is logged with its job id, which names the interval (repeat:<scheduler>:<slot ms>):
    // with several workers, the logs show that each interval ran once.
    const jobLog = log.child({ jobId: job.id });
    switch (job.name) {
      case "stage-sweep": {
        const result = await sweepDueCustomers({ pool, outbox, clock, models: cache, churn, settings });
        // An idle sweep each minute is noise at info, but still a run to record.
        if (!result.ran || result.evaluated > 0) jobLog.info({ result }, "stage sweep");
        else jobLog.debug({ result }, "stage sweep");
        return result;
      }
      case "clv-refit": {
        const result = await refitModels({ pool, outbox, clock, repo, cache, settings, ...refit });
        if (!result.fitted) {
          jobLog.info({ why: result.why }, "clv refit");
          return result;
        }
        // A rejected fit leaves customers on the previous model: say so where operators look.
        for (const r of result.rejected) {
          metrics.fitsRejected.inc({ model: r.model, reason: r.reason });
          jobLog.warn({ model: r.model, reason: r.reason, detail: r.detail }, "clv fit rejected; the previous model stays");
        }
        const { candidates, choice } = result.selection;
        jobLog.info({ sampleSize: result.sampleSize, applied: result.applied, candidates, choice, fitMs: Math.round(result.fitMs), reevaluated: result.reevaluated }, "clv refit");
        const fits = result.countFits.map(({ kind, fit, status }) => ({ kind, status, params: fit.model.spec.params, logLikelihood: fit.logLikelihood }));
        return { fitted: true, fits, choice, gammaGamma: result.gammaGamma, applied: result.applied, rejected: result.rejected, fitMs: result.fitMs };
      }
      case "retention": {
        const wallNow = new Date();
        // Payload months by the engine's clock (the watermark when replaying history), the rest by wall time.
        const result = await runRetention(pool, { ...retention, dedupeDays: await dedupeDays(jobLog) }, { eventNow: await clock.read(pool), wallNow });
        if (!result.ran) {
          jobLog.info("retention: another run holds the lock");
          return result;
        }
        retentionMetrics.record(result, new Date());
        const { partitionsCreated, partitionsDeferred, payloadMonthsDropped, eventIds, outboxRows, jobOutcomes } = result;
        jobLog.info({ partitionsCreated, partitionsDeferred, payloadMonthsDropped, eventIds, outboxRows, jobOutcomes }, "retention");
        return result;
      }
      default:
        throw new Error(`no handler for maintenance job ${job.name}`);
    }
  };
  const worker = new Worker(QUEUES.maintenance, run, { connection, prefix, concurrency: 1, autorun: false });
  worker.on("failed", (job, err) => log.warn({ job: job?.name, err }, "maintenance job failed; the next interval retries"));
  worker.on("error", (err) => log.error({ err }, "maintenance worker error"));

  return {
    queue,
    metrics,
    /** Where the refit's and retention's metrics are. */
    registry,
    async start() {
      await queue.upsertJobScheduler("stage-sweep", { every: sweepEveryMs }, { name: "stage-sweep", opts: { removeOnComplete: 100, removeOnFail: 100 } });
      await queue.upsertJobScheduler("clv-refit", { every: refitEveryMs }, { name: "clv-refit", opts: { removeOnComplete: 20, removeOnFail: 20 } });
      await queue.upsertJobScheduler("retention", { every: retention.everyMs }, { name: "retention", opts: { removeOnComplete: 20, removeOnFail: 20 } });
      // A run soon after start too: the months ahead exist from the first day, however the interval falls.
      await queue.add("retention", {}, { jobId: `retention-start-${Date.now()}`, delay: initialRetentionDelayMs, removeOnComplete: true, removeOnFail: true });
      // A first refit soon after start when no model exists yet, rather than a whole interval later.
      const models = await repo.latest();
      if (!models.count) await queue.add("clv-refit", {}, { jobId: "clv-refit-initial", delay: initialRefitDelayMs, removeOnComplete: true, removeOnFail: true });
      void worker.run();
      await worker.waitUntilReady();
    },
    async stop() {
      await worker.close();
      await queue.close();
    },
  };
}
export type MaintenanceService = ReturnType<typeof createMaintenanceService>;
