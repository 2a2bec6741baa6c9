import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll } from "vitest";
import { createKafkaFromSettings, ensureTopics, KafkaSettingsError, type KafkaSecuritySettings } from "@lifecycle/kafka";
import { createTestLogger, describe, expect, it, readTopic, uniqueName } from "@lifecycle/testkit";

// Issue 10: our Kafka settings reach a secured cluster. A second local broker from the same Maven
// artifacts listens with SASL_SSL only (a CA and broker certificate made with keytool, SCRAM users
// written when its storage is formatted, the same users for PLAIN).
const run = promisify(execFile);
const KAFKA_SH = fileURLToPath(new URL("../infra/kafka/kafka.sh", import.meta.url));
const PORT = process.env.TEST_SASL_SSL_KAFKA_PORT ?? "39094";
const brokerEnv = { ...process.env, KAFKA_SASL_SSL: "1", KAFKA_PORT: PORT, KAFKA_HEAP_OPTS: "-Xms128m -Xmx256m", KAFKA_SASL_USERS: "ingest:ingest-secret" };
const CA_FILE = `${process.env.TMPDIR ?? "/tmp"}/lifecycle-kafka-${PORT}/tls/ca.pem`;
const logger = createTestLogger("kafka-sasl-ssl");

const settings = (s: Partial<KafkaSecuritySettings>) => ({ KAFKA_BROKERS: [`127.0.0.1:${PORT}`], KAFKA_CLIENT_ID: "sasl-ssl-test", KAFKA_SSL: true, KAFKA_SSL_CA_FILE: CA_FILE, ...s });

describe("Kafka over SASL_SSL", { timeout: 120_000 }, () => {
  beforeAll(async () => {
    await run("bash", [KAFKA_SH, "start"], { env: brokerEnv, timeout: 110_000 });
  }, 120_000);
  afterAll(async () => {
    await run("bash", [KAFKA_SH, "stop"], { env: brokerEnv });
  });

  it.each(["scram-sha-256", "scram-sha-512", "plain"] as const)("works with %s and the right credentials: create a topic, produce, consume", async (mechanism) => {
    const kafka = createKafkaFromSettings(settings({ KAFKA_SASL_MECHANISM: mechanism, KAFKA_SASL_USERNAME: "ingest", KAFKA_SASL_PASSWORD: "ingest-secret" }), { clientId: mechanism, logger });
    const topic = uniqueName(`secure-${mechanism}`);
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, [{ topic, numPartitions: 1 }]);
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: [{ key: "c-1", value: `over ${mechanism}` }] });
    await producer.disconnect();
    const [message] = await readTopic(kafka, topic, 1);
    expect(message?.value?.toString()).toBe(`over ${mechanism}`);
  });

  it("fails at once, saying so, with a wrong password", async () => {
    const kafka = createKafkaFromSettings(settings({ KAFKA_SASL_MECHANISM: "scram-sha-512", KAFKA_SASL_USERNAME: "ingest", KAFKA_SASL_PASSWORD: "wrong" }), { clientId: "wrong", logger });
    const admin = kafka.admin();
    const t0 = Date.now();
    await expect(admin.connect()).rejects.toThrow(/SASL SCRAM SHA512 authentication failed|Authentication failed/i);
    expect(Date.now() - t0, "an authentication failure is not retried").toBeLessThan(10_000);
  });

  it("refuses to start with an unreadable CA file, naming the setting", () => {
    expect(() => createKafkaFromSettings(settings({ KAFKA_SSL_CA_FILE: "/nonexistent/ca.pem" }), { clientId: "no-ca", logger })).toThrow(KafkaSettingsError);
    expect(() => createKafkaFromSettings(settings({ KAFKA_SSL_CA_FILE: "/nonexistent/ca.pem" }), { clientId: "no-ca", logger })).toThrow(/KAFKA_SSL_CA_FILE/);
  });
});
