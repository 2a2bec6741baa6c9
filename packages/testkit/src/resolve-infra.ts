import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { Provider, RunningInfra, TestInfra } from "./test-infra.js";

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));

/** The broker port the local provider uses, apart from the demo's 9092 so both can run at once. */
const LOCAL_TEST_KAFKA_PORT = process.env.TEST_KAFKA_PORT ?? "19092";

function fromEnv(...names: string[]): string | undefined {
  for (const n of names) {
    const v = process.env[n];
    if (v) return v;
  }
  return undefined;
}

/** True when a Docker (or compatible) engine answers, as testcontainers sees it. */
async function dockerEngineAnswers(): Promise<boolean> {
  if (process.env.LIFECYCLE_TEST_INFRA === "local") return false;
  try {
    const { getContainerRuntimeClient } = await import("testcontainers");
    await Promise.race([
      getContainerRuntimeClient(),
      new Promise((_, reject) => setTimeout(() => reject(new Error("timeout")), 10_000)),
    ]);
    return true;
  } catch {
    return false;
  }
}

/**
 * Chooses, per service: an explicit URL from the environment (TEST_* first, then the service
 * variables); else testcontainers when a Docker engine answers; else the local broker and servers.
 * LIFECYCLE_TEST_INFRA=local|testcontainers forces the fallback choice.
 */
export async function resolveInfra(log: (line: string) => void): Promise<RunningInfra> {
  const envKafka = fromEnv("TEST_KAFKA_BROKERS", "KAFKA_BROKERS");
  const envPg = fromEnv("TEST_DATABASE_URL", "DATABASE_URL");
  const envRedis = fromEnv("TEST_REDIS_URL", "REDIS_URL");
  const needFallback = !envKafka || !envPg || !envRedis;

  let fallback: Exclude<Provider, "env"> = "local";
  if (needFallback) {
    const forced = process.env.LIFECYCLE_TEST_INFRA;
    if (forced === "testcontainers") fallback = "testcontainers";
    else if (forced !== "local" && (await dockerEngineAnswers())) fallback = "testcontainers";
    log(`[testkit] ${fallback === "testcontainers" ? "Docker engine found: using testcontainers" : "no Docker engine: using local infrastructure"} for services without an explicit URL`);
  }

  const started: RunningInfra[] = [];
  const start = fallback === "testcontainers" ? (await import("./containers.js")).startContainers : startLocal;
  const missing = { kafka: !envKafka, postgres: !envPg, redis: !envRedis };
  const fallbackInfra = needFallback ? await start(missing, log) : undefined;
  if (fallbackInfra) started.push(fallbackInfra);

  const pick = <K extends "kafka" | "postgres" | "redis">(key: K, envValue: string | undefined, fromEnv: (v: string) => TestInfra[K]): TestInfra[K] => {
    if (envValue) return fromEnv(envValue);
    const f = fallbackInfra?.infra[key];
    if (!f) throw new Error(`no provider for ${key}`);
    return f;
  };
  const kafka = pick("kafka", envKafka, (v) => ({ provider: "env", brokers: v.split(",").map((s) => s.trim()) }));
  const postgres = pick("postgres", envPg, (v) => ({ provider: "env", adminUrl: withDatabase(v, "postgres") }));
  const redis = pick("redis", envRedis, (v) => ({ provider: "env", url: v }));

  const describeOne = (name: string, provider: Provider, where: string, extra = "") => `${name}=${provider} (${where}${extra})`;
  const kafkaExtra = kafka.provider === "local" ? ", Apache Kafka 3.9.1 from Maven artifacts" : "";
  const description = [
    describeOne("kafka", kafka.provider, kafka.brokers.join(","), kafkaExtra),
    describeOne("postgres", postgres.provider, hostOf(postgres.adminUrl)),
    describeOne("redis", redis.provider, hostOf(redis.url)),
  ].join(", ");

  return {
    infra: { description, kafka, postgres, redis },
    async stop() {
      for (const s of started.reverse()) await s.stop();
    },
  };
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

function hostOf(url: string): string {
  const u = new URL(url);
  return `${u.hostname}:${u.port}`;
}

async function startLocal(missing: { kafka: boolean; postgres: boolean; redis: boolean }, log: (line: string) => void): Promise<RunningInfra> {
  if (missing.postgres || missing.redis) {
    const { stdout } = await run("bash", [`${repoRoot}infra/local-infra.sh`, "services"], { cwd: repoRoot });
    stdout.trim().split("\n").forEach((l) => log(`[testkit] ${l}`));
  }
  let stopKafka: () => Promise<void> = () => Promise.resolve();
  const kafkaEnv = { ...process.env, KAFKA_PORT: LOCAL_TEST_KAFKA_PORT };
  if (missing.kafka) {
    const script = `${repoRoot}infra/kafka/kafka.sh`;
    const wasRunning = await run("bash", [script, "status"], { env: kafkaEnv }).then(() => true, () => false);
    const { stdout } = await run("bash", [script, "start"], { env: kafkaEnv, cwd: repoRoot, maxBuffer: 16 * 1024 * 1024 });
    stdout.trim().split("\n").forEach((l) => log(`[testkit] ${l}`));
    if (!wasRunning) {
      stopKafka = async () => {
        const { stdout: out } = await run("bash", [script, "stop"], { env: kafkaEnv, cwd: repoRoot });
        out.trim().split("\n").forEach((l) => log(`[testkit] ${l}`));
      };
    }
  }
  return {
    infra: {
      description: "local",
      kafka: { provider: "local", brokers: [`127.0.0.1:${LOCAL_TEST_KAFKA_PORT}`] },
      postgres: { provider: "local", adminUrl: "postgres://postgres@127.0.0.1:5432/postgres" },
      redis: { provider: "local", url: "redis://127.0.0.1:6379" },
    },
    stop: stopKafka,
  };
}
