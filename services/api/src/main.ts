// Composition root of the HTTP API: config → logger → pool → kafka → redis → app.
import closeWithGrace from "close-with-grace";
import { collectDefaultMetrics, Registry } from "prom-client";
import { Partitioners } from "kafkajs";
import { loadConfig, ratesOf, secretKeys } from "@lifecycle/config";
import { createApiKeyRepo, createPoolFromSettings, ensureDatabase, migrate, verifyPostgres } from "@lifecycle/db";
import { createClock, engineSettings } from "@lifecycle/engine";
import { inputTopicsFrom } from "@lifecycle/events";
import { createEventPublisher, createKafkaFromSettings, verifyKafka } from "@lifecycle/kafka";
import { createLogger, exitOnStartupError } from "@lifecycle/logging";
import { createFollowUpQueues, createRedisFromSettings, verifyRedis } from "@lifecycle/queue";
import { dependencyChecks, startTracing } from "@lifecycle/telemetry";
import { loadFollowUpTemplates } from "@lifecycle/templates";
import { buildApp } from "./app.js";
import { ApiConfig } from "./config.js";
import { startStageChangeFeed } from "./stage-change-feed.js";

const config = loadConfig(ApiConfig);
const logger = createLogger({ name: "api", level: config.LOG_LEVEL, secretKeys });
// A wrong setting (password, certificate, address) is one fatal line naming it, and exit 1.
const startup = exitOnStartupError(logger);
const tracing = await startTracing({ settings: config, serviceName: "api", logger });
// Parsed before anything else, as the worker does: a broken template is a start-up error naming its file.
const templates = await loadFollowUpTemplates({ dir: config.TEMPLATES_DIR, defaultLocale: config.DEFAULT_LOCALE });

await ensureDatabase(config.DATABASE_URL).catch((err: unknown) => logger.warn({ err }, "could not check or create the database"));
await verifyPostgres(config.DATABASE_URL);
await migrate({ databaseUrl: config.DATABASE_URL, log: (msg) => logger.debug(msg) });
const pool = createPoolFromSettings(config, "lifecycle-api");
const kafka = createKafkaFromSettings(config, { clientId: "api", logger });
await verifyKafka(kafka);
const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
await producer.connect();
const admin = kafka.admin();
await admin.connect();
const redis = createRedisFromSettings(config, "lifecycle-api");
// A wrong password is a start-up error naming REDIS_URL, not commands waiting forever.
await verifyRedis(redis);
const followUps = createFollowUpQueues({ connection: redis, prefix: config.QUEUE_PREFIX });
const stageChanges = await startStageChangeFeed({ kafka, topic: config.STAGE_CHANGED_TOPIC, logger });
const registry = new Registry();
collectDefaultMetrics({ register: registry });
const topics = inputTopicsFrom(config.INPUT_TOPICS);

const app = await buildApp(
  {
    pool,
    keys: createApiKeyRepo(pool),
    settings: engineSettings(config),
    clock: createClock({ mode: config.LIFECYCLE_CLOCK }),
    rates: ratesOf(config),
    maxFutureSkewMs: config.MAX_FUTURE_SKEW_MS,
    publishEvents: createEventPublisher({ producer, topics }),
    stageChanges,
    queues: Object.values(followUps.queues),
    readiness: dependencyChecks({ postgres: pool, redis, kafka: admin }),
    registry,
    rateLimitPerMinute: config.API_RATE_LIMIT_PER_MINUTE,
    limits: {
      perAddressPerMinute: config.API_ADDRESS_RATE_LIMIT_PER_MINUTE,
      authFailuresPerMinute: config.API_AUTH_FAILURES_PER_MINUTE,
      readyzPerMinute: config.API_READYZ_PER_MINUTE,
      maxPeriodDays: config.API_MAX_PERIOD_DAYS,
      expensiveReadsAtOnce: config.API_EXPENSIVE_READS_AT_ONCE,
      expensiveReadWaitMs: config.API_EXPENSIVE_READ_WAIT_MS,
    },
    streams: { perKey: config.API_SSE_STREAMS_PER_KEY, total: config.API_SSE_STREAMS_TOTAL, keyRecheckMs: config.API_SSE_KEY_RECHECK_MS },
    trustProxy: config.API_TRUST_PROXY,
    docs: config.API_DOCS,
    bodyLimitBytes: config.API_BODY_LIMIT_BYTES,
    unsubscribeSecret: config.UNSUBSCRIBE_SECRET,
    templates,
  },
  { logger },
);

startup.done();
closeWithGrace({ delay: 15_000 }, async ({ err, signal }) => {
  if (err) logger.error({ err }, "shutting down after an error");
  else logger.info({ signal }, "shutting down");
  await app.close();
  await stageChanges.stop();
  await producer.disconnect();
  await admin.disconnect();
  await followUps.close();
  redis.disconnect();
  await pool.end();
  // Last: the spans of the final requests are exported too.
  await tracing.shutdown();
});

const address = await app.listen({ host: config.API_HOST, port: config.API_PORT });
logger.info({ address, docs: `${address}/docs` }, "api running");
