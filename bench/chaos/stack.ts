// The whole product as users run it, on infrastructure of the run's own (so its faults touch
// nothing else on the machine): a Kafka broker, a PostgreSQL server and a Redis with append-only
// persistence, the webhook and SMTP receivers, and the services as processes (2 ingest, 2 workers,
// 1 API), each restarted by a supervisor when it exits. Everything is registered with the
// teardown the moment it exists.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { Kafka } from "kafkajs";
import { createApiKeyRepo, createDatabase, createPool, migrate } from "@lifecycle/db";
import type { InputTopics } from "@lifecycle/events";
import { createKafka } from "@lifecycle/kafka";
import { createLogger } from "@lifecycle/logging";
import { startPrivateRedis } from "@lifecycle/testkit/tools";
import { createTopicRegistry, startBroker } from "../broker.js";
import { startReplicas, type ReplicaSet } from "../processes.js";
import type { Teardown } from "../teardown.js";
import { freePort } from "./free-port.js";
import { startPrivatePostgres, type PrivatePostgres } from "./private-postgres.js";
import { startReceivers, type Receivers } from "./receivers.js";

const run = promisify(execFile);

export interface StackOptions {
  root: string;
  runId: string;
  kafkaPort: string;
  partitions: number;
  logDir: string;
  teardown: Teardown;
  say: (line: string) => void;
}

export interface Stack {
  kafka: Kafka;
  kafkaPort: string;
  topics: InputTopics & { dlq: string; stageChanged: string };
  groupId: string;
  queuePrefix: string;
  databaseUrl: string;
  postgres: PrivatePostgres;
  redis: Awaited<ReturnType<typeof startPrivateRedis>>;
  receivers: Receivers;
  apiUrl: string;
  apiKey: string;
  ingest: ReplicaSet;
  workers: ReplicaSet;
  api: ReplicaSet;
  /** Restarts the broker keeping its data: down for `downMs`, stopped by a crash or a controlled shutdown. */
  restartBroker(how: "kill" | "term", downMs: number): Promise<void>;
}

// What the soak sets apart from the defaults, and why:
// - follow-ups due at once on the receivers (thank-you and escalation by webhook; recovery and the
//   CSAT survey by e-mail, the survey a minute after the ticket), no quiet hours: so the run has
//   deliveries to count; marketing ones need consent the stream never gives (skipped, recorded).
// - retries and circuits in seconds, not minutes: a receiver's outage is over within the run;
//   e-mail at up to 50 a second (the default 10, an SMTP provider's pace, would make the drain
//   after the stream the longest part of a run: the backlog a failing receiver leaves).
// - no CLV refit is ever applied (the fit guard asks for more repeat buyers than exist): the
//   stages then depend on the events alone, which the checker's reference model knows.
const PLAYBOOKS = {
  "thank-you": { channel: "webhook" },
  escalation: { channel: "webhook" },
  recovery: { channel: "email" },
  "csat-survey": { channel: "email", delayMinutes: 1 },
};

export async function startStack({ root, runId, kafkaPort, partitions, logDir, teardown, say }: StackOptions): Promise<Stack> {
  const kafka = createKafka({ brokers: [`127.0.0.1:${kafkaPort}`], clientId: `chaos-${runId}`, logger: createLogger({ name: "chaos", level: "fatal" }) });
  // The broker first: the others take free ports, which must not be the broker's two.
  await startBroker({ root, port: kafkaPort, say, teardown });
  const [postgres, redis, receivers] = await Promise.all([
    (async () => {
      const pg = await startPrivatePostgres({ say });
      teardown.add("remove the run's PostgreSQL server", () => pg.dispose());
      return pg;
    })(),
    (async () => {
      const r = await startPrivateRedis({ persistence: true });
      teardown.add("remove the run's Redis", () => r.dispose());
      return r;
    })(),
    (async () => {
      const r = await startReceivers();
      teardown.add("close the receivers", () => r.close());
      return r;
    })(),
  ]);
  say(`PostgreSQL on ${postgres.port}, Redis ${redis.url}, receivers ${receivers.webhookUrl} and ${receivers.smtpUrl}`);

  const topics = {
    customer: `chaos-${runId}-customer`,
    purchase: `chaos-${runId}-purchase`,
    supportTicket: `chaos-${runId}-ticket`,
    survey: `chaos-${runId}-survey`,
    dlq: `chaos-${runId}-dlq`,
    stageChanged: `chaos-${runId}-stage-changed`,
  };
  const registry = createTopicRegistry(kafka, teardown);
  await registry.create(Object.values(topics), partitions);

  const databaseUrl = new URL(postgres.url);
  databaseUrl.pathname = "/lifecycle";
  await createDatabase(databaseUrl.toString());
  await migrate({ databaseUrl: databaseUrl.toString() });
  const pool = createPool({ connectionString: databaseUrl.toString(), max: 1 });
  const { key: apiKey } = await createApiKeyRepo(pool).create({ name: "chaos producer", scopes: ["ingest"] });
  await pool.end();

  const apiPort = await freePort();
  const groupId = `chaos-${runId}`;
  const queuePrefix = `chaos-${runId}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: databaseUrl.toString(),
    KAFKA_BROKERS: `127.0.0.1:${kafkaPort}`,
    KAFKA_CLIENT_ID: `chaos-${runId}`,
    REDIS_URL: redis.url,
    QUEUE_PREFIX: queuePrefix,
    INPUT_TOPICS: [topics.customer, topics.purchase, topics.supportTicket, topics.survey].join(","),
    DLQ_TOPIC: topics.dlq,
    STAGE_CHANGED_TOPIC: topics.stageChanged,
    INGEST_GROUP_ID: groupId,
    TOPIC_PARTITIONS: String(partitions),
    LIFECYCLE_CLOCK: "wall",
    LOG_LEVEL: "info",
    PROBE_PORT: "-1",
    WEBHOOK_URL: receivers.webhookUrl,
    WEBHOOK_SECRET: `chaos-${runId}-webhook-secret`,
    SMTP_URL: receivers.smtpUrl,
    PLAYBOOKS: JSON.stringify(PLAYBOOKS),
    QUIET_HOURS: "00:00-00:00",
    CLV_MIN_REPEAT_BUYERS: "1000000000",
    SWEEP_INTERVAL_MS: "5000",
    RATE_LIMIT_EMAIL_PER_SECOND: "50",
    FOLLOW_UP_RETRY_BASE_MS: "500",
    FOLLOW_UP_RETRY_MAX_MS: "5000",
    CIRCUIT_OPEN_MS: "1000",
    CIRCUIT_OPEN_MAX_MS: "5000",
    RECONCILE_CHECK_MS: "3000",
    API_HOST: "127.0.0.1",
    API_PORT: String(apiPort),
    API_RATE_LIMIT_PER_MINUTE: "1000000",
    API_ADDRESS_RATE_LIMIT_PER_MINUTE: "1000000",
  };
  const common = { env, logDir, cwd: root, say };
  // The worker first: it runs the migrations' partitions and the relay the follow-ups need.
  const workers = await startReplicas({ ...common, name: "worker", entry: `${root}services/worker/src/main.ts`, readyMessage: "worker running" }, 2, teardown);
  const [ingest, api] = await Promise.all([
    startReplicas({ ...common, name: "ingest", entry: `${root}services/ingest/src/main.ts`, readyMessage: "ingest running" }, 2, teardown),
    startReplicas({ ...common, name: "api", entry: `${root}services/api/src/main.ts`, readyMessage: "api running" }, 1, teardown),
  ]);
  say(`services running: 2 ingest, 2 workers, 1 API on 127.0.0.1:${apiPort}; logs in ${logDir}`);

  const script = `${root}infra/kafka/kafka.sh`;
  return {
    kafka,
    kafkaPort,
    topics,
    groupId,
    queuePrefix,
    databaseUrl: databaseUrl.toString(),
    postgres,
    redis,
    receivers,
    apiUrl: `http://127.0.0.1:${apiPort}`,
    apiKey,
    ingest,
    workers,
    api,
    async restartBroker(how, downMs) {
      const bounceEnv = { ...process.env, KAFKA_PORT: kafkaPort, KAFKA_HEAP_OPTS: "-Xms512m -Xmx1g", KAFKA_BOUNCE_SIGNAL: how === "kill" ? "KILL" : "TERM", KAFKA_BOUNCE_DOWN_S: String(downMs / 1000) };
      await run("bash", [script, "bounce"], { env: bounceEnv, maxBuffer: 16 * 2 ** 20 });
    },
  };
}
