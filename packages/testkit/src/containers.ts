import type { RunningInfra } from "./test-infra.js";

// Images for users with a Docker engine. cp-kafka 7.9 ships Apache Kafka 3.9, the line the
// local provider runs from Maven artifacts, so both paths test against the same broker version.
const KAFKA_IMAGE = "confluentinc/cp-kafka:7.9.0";
const POSTGRES_IMAGE = "postgres:15-alpine";
const REDIS_IMAGE = "redis:7-alpine";

/** Starts a container for each service that has no explicit URL. Loaded only when Docker answers. */
export async function startContainers(
  missing: { kafka: boolean; postgres: boolean; redis: boolean },
  log: (line: string) => void,
): Promise<RunningInfra> {
  const [{ KafkaContainer }, { PostgreSqlContainer }, { RedisContainer }] = await Promise.all([
    import("@testcontainers/kafka"),
    import("@testcontainers/postgresql"),
    import("@testcontainers/redis"),
  ]);
  const [kafka, postgres, redis] = await Promise.all([
    missing.kafka ? new KafkaContainer(KAFKA_IMAGE).withKraft().start() : undefined,
    missing.postgres ? new PostgreSqlContainer(POSTGRES_IMAGE).start() : undefined,
    missing.redis ? new RedisContainer(REDIS_IMAGE).start() : undefined,
  ]);
  log(`[testkit] containers started: ${[kafka && KAFKA_IMAGE, postgres && POSTGRES_IMAGE, redis && REDIS_IMAGE].filter(Boolean).join(", ")}`);
  const pgUrl = postgres ? new URL(postgres.getConnectionUri()) : undefined;
  if (pgUrl) pgUrl.pathname = "/postgres";
  return {
    infra: {
      description: "testcontainers",
      kafka: { provider: "testcontainers", brokers: kafka ? [`${kafka.getHost()}:${kafka.getMappedPort(9093)}`] : [] },
      postgres: { provider: "testcontainers", adminUrl: pgUrl?.toString() ?? "" },
      redis: { provider: "testcontainers", url: redis?.getConnectionUrl() ?? "" },
    },
    async stop() {
      await Promise.all([kafka?.stop(), postgres?.stop(), redis?.stop()]);
    },
  };
}
