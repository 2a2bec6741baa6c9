// Composition root of the ingest service: config → logger → pool → kafka → redis → service.
import closeWithGrace from "close-with-grace";
import { collectDefaultMetrics } from "prom-client";
import { loadConfig, secretKeys } from "@lifecycle/config";
import { createPoolFromSettings, ensureDatabase, migrate, verifyPostgres } from "@lifecycle/db";
import { engineSettings } from "@lifecycle/engine";
import { createKafkaFromSettings, verifyKafka } from "@lifecycle/kafka";
import { createLogger, exitOnStartupError, redactUrl } from "@lifecycle/logging";
import { createFollowUpQueues, createRedisFromSettings, verifyRedis } from "@lifecycle/queue";
import { dependencyChecks, startProbeIfEnabled, startTracing } from "@lifecycle/telemetry";
import { IngestConfig } from "./config.js";
import { createIngestService } from "./ingest-service.js";

const config = loadConfig(IngestConfig);
const logger = createLogger({ name: "ingest", level: config.LOG_LEVEL, secretKeys });
// A wrong setting (password, certificate, address) is one fatal line naming it, and exit 1.
const startup = exitOnStartupError(logger);
const tracing = await startTracing({ settings: config, serviceName: "ingest", logger });

// A first start on a fresh server creates the database; where the role may not (a managed
// database), the database must exist already and the migration below says so if it does not.
await ensureDatabase(config.DATABASE_URL).catch((err: unknown) => logger.warn({ err }, "could not check or create the database"));
await verifyPostgres(config.DATABASE_URL);
await migrate({ databaseUrl: config.DATABASE_URL, log: (msg) => logger.debug(msg) });
const pool = createPoolFromSettings(config, "lifecycle-ingest");
const kafka = createKafkaFromSettings(config, { clientId: "ingest", logger });
await verifyKafka(kafka);
const redis = createRedisFromSettings(config, "lifecycle-ingest");
// A wrong password is a start-up error naming REDIS_URL, not commands waiting forever.
await verifyRedis(redis);
const followUps = createFollowUpQueues({ connection: redis, prefix: config.QUEUE_PREFIX });

const service = await createIngestService({
  kafka,
  pool,
  followUps,
  logger,
  groupId: config.INGEST_GROUP_ID,
  sessionTimeoutMs: config.INGEST_SESSION_TIMEOUT_MS,
  concurrency: config.INGEST_CONCURRENCY,
  transactions: config.INGEST_TRANSACTIONS,
  inputTopics: config.INPUT_TOPICS,
  dlqTopic: config.DLQ_TOPIC,
  stageChangedTopic: config.STAGE_CHANGED_TOPIC,
  followUpHorizonMs: config.FOLLOW_UP_HORIZON_MS,
  maxFutureSkewMs: config.MAX_FUTURE_SKEW_MS,
  clock: config.LIFECYCLE_CLOCK,
  engineSettings: engineSettings(config),
  modelCacheMs: config.CLV_MODEL_CACHE_MS,
  topicPartitions: config.TOPIC_PARTITIONS,
  rates: config.rates,
  onFatal: (err) => {
    logger.fatal({ err }, "consumer stopped for good; exiting so the supervisor restarts us");
    process.exit(1);
  },
});

// Process metrics (CPU, memory, event-loop lag) beside ours, as the API has them.
collectDefaultMetrics({ register: service.metrics.registry });
const admin = kafka.admin();
await admin.connect();
const probe = await startProbeIfEnabled(
  {
    registry: service.metrics.registry,
    host: config.PROBE_HOST,
    port: config.PROBE_PORT,
    checks: [
      ...dependencyChecks({ postgres: pool, redis, kafka: admin }),
      {
        name: "consumer",
        check: async () => {
          const health = service.consumer.health();
          if (!health.ok) throw new Error(health.why);
        },
      },
    ],
  },
  logger,
);

startup.done();
closeWithGrace({ delay: 15_000 }, async ({ err, signal }) => {
  if (err) logger.error({ err }, "shutting down after an error");
  else logger.info({ signal }, "shutting down");
  await probe.close();
  await admin.disconnect();
  await service.stop();
  await followUps.close();
  redis.disconnect();
  await pool.end();
  // Last: the spans of the final batches are exported too.
  await tracing.shutdown();
});

await service.start();
logger.info({ topics: config.INPUT_TOPICS, groupId: config.INGEST_GROUP_ID, database: redactUrl(config.DATABASE_URL) }, "ingest running");
