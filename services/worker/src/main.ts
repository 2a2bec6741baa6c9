// Composition root of the worker: config → logger → pool → redis → worker.
import closeWithGrace from "close-with-grace";
import { collectDefaultMetrics } from "prom-client";
import { loadConfig, secretKeys } from "@lifecycle/config";
import { channelsSecretKeys, describeChannels } from "./channels/channels-config.js";
import { createEmailChannel } from "./channels/email.channel.js";
import { createWebhookChannel } from "./channels/webhook.channel.js";
import { Partitioners } from "kafkajs";
import { createOutboxRepo, createPoolFromSettings, ensureDatabase, migrate, retentionSettings, verifyPostgres } from "@lifecycle/db";
import { createClock, engineSettings, refitSettings } from "@lifecycle/engine";
import { createLogger, exitOnStartupError } from "@lifecycle/logging";
import { createKafkaFromSettings, describeTopicRetention, verifyKafka } from "@lifecycle/kafka";
import { createFollowUpReconciler, createOutboxRelay, createRelayMetrics, stageChangePublisher } from "@lifecycle/pipeline";
import { checkRedisDurability, createFollowUpQueues, createRedisFromSettings, verifyRedis } from "@lifecycle/queue";
import { WorkerConfig } from "./config.js";
import { dependencyChecks, startProbeIfEnabled, startTracing } from "@lifecycle/telemetry";
import { loadFollowUpTemplates } from "@lifecycle/templates";
import { createMaintenanceService } from "./maintenance/maintenance-service.js";
import { createWorkerService } from "./worker-service.js";

const config = loadConfig(WorkerConfig);
const logger = createLogger({ name: "worker", level: config.LOG_LEVEL, secretKeys: [...secretKeys, ...channelsSecretKeys] });
// A wrong setting (password, certificate, address) is one fatal line naming it, and exit 1.
const startup = exitOnStartupError(logger);
const tracing = await startTracing({ settings: config, serviceName: "worker", logger });
// Every template parsed before anything else: a broken one is a start-up error naming its file.
const templates = await loadFollowUpTemplates({ dir: config.TEMPLATES_DIR, defaultLocale: config.DEFAULT_LOCALE });

// A first start on a fresh server creates the database; where the role may not (a managed
// database), the database must exist already and the migration below says so if it does not.
await ensureDatabase(config.DATABASE_URL).catch((err: unknown) => logger.warn({ err }, "could not check or create the database"));
await verifyPostgres(config.DATABASE_URL);
await migrate({ databaseUrl: config.DATABASE_URL, log: (msg) => logger.debug(msg) });
const pool = createPoolFromSettings(config, "lifecycle-worker");
const connection = createRedisFromSettings(config, "lifecycle-worker");
// A wrong password is a start-up error naming REDIS_URL, not commands waiting forever.
await verifyRedis(connection);
for (const warning of (await checkRedisDurability(connection)).warnings) logger.warn(warning);
const clock = createClock({ mode: config.LIFECYCLE_CLOCK });
const settings = engineSettings(config);
const webhook = config.WEBHOOK_URL && config.WEBHOOK_SECRET ? createWebhookChannel({ url: config.WEBHOOK_URL, secret: config.WEBHOOK_SECRET, timeoutMs: config.WEBHOOK_TIMEOUT_MS }) : undefined;
const email = config.SMTP_URL ? createEmailChannel({ smtpUrl: config.SMTP_URL, from: config.EMAIL_FROM }) : undefined;
const service = createWorkerService({
  pool,
  connection,
  prefix: config.QUEUE_PREFIX,
  concurrency: config.WORKER_CONCURRENCY,
  logger,
  clock,
  settings,
  channels: { ...(webhook ? { webhook } : {}), ...(email ? { email } : {}) },
  rateLimits: { log: config.RATE_LIMIT_LOG_PER_SECOND, webhook: config.RATE_LIMIT_WEBHOOK_PER_SECOND, email: config.RATE_LIMIT_EMAIL_PER_SECOND },
  // Marketing e-mail carries a signed one-click unsubscribe link; without both settings it is skipped.
  retry: { baseMs: config.FOLLOW_UP_RETRY_BASE_MS, maxMs: config.FOLLOW_UP_RETRY_MAX_MS },
  circuit: { threshold: config.CIRCUIT_FAILURE_THRESHOLD, openMs: config.CIRCUIT_OPEN_MS, maxOpenMs: config.CIRCUIT_OPEN_MAX_MS },
  templates,
  // The same cadence as the Redis-loss check: both make Postgres and the queues agree again.
  failedOutcomeSweepMs: config.RECONCILE_CHECK_MS,
  unsubscribe: config.PUBLIC_API_URL && config.UNSUBSCRIBE_SECRET ? { baseUrl: config.PUBLIC_API_URL, secret: config.UNSUBSCRIBE_SECRET, linkDays: config.UNSUBSCRIBE_LINK_DAYS } : undefined,
});
// The sweep and the refit write outbox rows (stage changes, win-backs): this process publishes
// them itself, so nothing waits for an ingest replica to be up.
const kafka = createKafkaFromSettings(config, { clientId: "worker", logger });
await verifyKafka(kafka);
const producer = kafka.producer({ maxInFlightRequests: 1, allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
await producer.connect();
// Retention reads how long the input topics keep events: it keeps their ids at least that long.
const admin = kafka.admin();
await admin.connect();
const maintenance = createMaintenanceService({
  pool,
  connection,
  prefix: config.QUEUE_PREFIX,
  logger,
  clock,
  settings,
  modelCacheMs: config.CLV_MODEL_CACHE_MS,
  sweepEveryMs: config.SWEEP_INTERVAL_MS,
  refitEveryMs: config.REFIT_INTERVAL_MS,
  refit: refitSettings(config),
  retention: { ...retentionSettings(config), everyMs: config.RETENTION_INTERVAL_MS },
  inputTopicRetention: () => describeTopicRetention(admin, config.INPUT_TOPICS),
  registry: service.metrics.registry,
});

const followUps = createFollowUpQueues({ connection, prefix: config.QUEUE_PREFIX });
const outbox = createOutboxRepo(pool);
const relay = createOutboxRelay({
  pool,
  outbox,
  followUps,
  now: async () => (await clock.read(pool)) ?? new Date(),
  publishStageChanges: stageChangePublisher(producer, config.STAGE_CHANGED_TOPIC),
  logger,
  metrics: createRelayMetrics(service.metrics.registry),
  horizonMs: config.FOLLOW_UP_HORIZON_MS,
});

// A Redis that lost its data (restart without persistence, flush, failover) gets back every
// unfinished follow-up from the outbox, under the same job ids.
const reconciler = createFollowUpReconciler({
  pool,
  outbox,
  connection,
  prefix: config.QUEUE_PREFIX,
  now: async () => (await clock.read(pool)) ?? new Date(),
  logger,
  registry: service.metrics.registry,
  onRequeued: () => relay.wake(),
  everyMs: config.RECONCILE_CHECK_MS,
});

// Process metrics (CPU, memory, event-loop lag) beside ours, as the API has them.
collectDefaultMetrics({ register: service.metrics.registry });
const probe = await startProbeIfEnabled(
  {
    registry: service.metrics.registry,
    host: config.PROBE_HOST,
    port: config.PROBE_PORT,
    checks: dependencyChecks({ postgres: pool, redis: connection }),
  },
  logger,
);

startup.done();
closeWithGrace({ delay: 15_000 }, async ({ err, signal }) => {
  if (err) logger.error({ err }, "shutting down after an error");
  else logger.info({ signal }, "shutting down");
  await probe.close();
  await service.stop();
  await maintenance.stop();
  await reconciler.stop();
  await relay.stop();
  await followUps.close();
  await producer.disconnect();
  await admin.disconnect();
  await email?.close();
  connection.disconnect();
  await pool.end();
  // Last: the spans of the final jobs are exported too.
  await tracing.shutdown();
});

await service.start();
await maintenance.start();
relay.start();
reconciler.start();
logger.info({ concurrency: config.WORKER_CONCURRENCY, channels: describeChannels(config) }, "worker running");
