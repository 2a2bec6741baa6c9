import { execFile, spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, onTestFinished } from "vitest";
import { z } from "zod";
import { createApiKeyRepo } from "@lifecycle/db";
import { StageChanged } from "@lifecycle/events";
import { openEventStream } from "@lifecycle/api/test-support/alerts-sse";
import { createKafkaFromSettings, ensureTopics, KafkaSettingsError, type KafkaSecuritySettings } from "@lifecycle/kafka";
import { createTestLogger, describe, expect, it, produceEvents, readTopic, readWholeTopic, removeRedisKeys, startService, uniqueName, waitFor, type ServiceProcess } from "@lifecycle/testkit";

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

// One secured broker for the file's two groups of tests.
beforeAll(async () => {
  await run("bash", [KAFKA_SH, "start"], { env: brokerEnv, timeout: 110_000 });
}, 120_000);
afterAll(async () => {
  await run("bash", [KAFKA_SH, "stop"], { env: brokerEnv });
});

describe("Kafka over SASL_SSL", { timeout: 120_000 }, () => {

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

// Done-when 1 of issue 10, as users run it: every Kafka client of the product, in its own process,
// configured only by the environment (CA file, SCRAM user, password from a mounted-secret file).
const main = (service: string) => fileURLToPath(new URL(`../services/${service}/src/main.ts`, import.meta.url));
const REPLAY = fileURLToPath(new URL("../scripts/replay.ts", import.meta.url));
const CRM_SYNC = fileURLToPath(new URL("../examples/crm-stage-sync/crm-stage-sync.ts", import.meta.url));

/** Runs a script to its end (through tsx, as npm scripts do); its exit code and output. */
function runScript(entry: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", entry, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe("the services, replay and the CRM example over SASL_SSL", { timeout: 240_000 }, () => {
  const running: ServiceProcess[] = [];
  afterAll(async () => {
    await Promise.all(running.map((s) => s.stop()));
  });

  it("take every hop on the secured broker with the right credentials, and refuse to start, naming the setting, with a wrong one", async ({ infra, database }) => {
    const run = uniqueName("secure");
    const dir = join(fileURLToPath(new URL("../.run/test-logs/", import.meta.url)), run);
    mkdirSync(dir, { recursive: true });
    const passwordFile = join(dir, "kafka-password");
    writeFileSync(passwordFile, "ingest-secret\n", { mode: 0o600 });
    const topics = { customer: `${run}-customer`, purchase: `${run}-purchase`, supportTicket: `${run}-ticket`, survey: `${run}-survey` };
    const stageTopic = `${run}-stages`;
    const dlqTopic = `${run}-dlq`;
    const queuePrefix = `${run}-q`;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DATABASE_URL: database.url,
      REDIS_URL: infra.redis.url,
      QUEUE_PREFIX: queuePrefix,
      KAFKA_BROKERS: `127.0.0.1:${PORT}`,
      KAFKA_SSL: "true",
      KAFKA_SSL_CA_FILE: CA_FILE,
      KAFKA_SASL_MECHANISM: "scram-sha-512",
      KAFKA_SASL_USERNAME: "ingest",
      KAFKA_SASL_PASSWORD_FILE: passwordFile,
      INPUT_TOPICS: Object.values(topics).join(","),
      DLQ_TOPIC: dlqTopic,
      STAGE_CHANGED_TOPIC: stageTopic,
      INGEST_GROUP_ID: `${run}-ingest`,
      TOPIC_PARTITIONS: "2",
      PROBE_PORT: "-1",
      API_PORT: "0",
      LOG_LEVEL: "info",
    };
    // At the very end (the refused starts below create queue keys too): every key under the run's
    // prefix, the follow-up queues and the worker's maintenance queue, once no service writes there
    // (a failed start leaves the others running until here).
    onTestFinished(async () => {
      await Promise.all(running.splice(0).map((s) => s.stop()));
      await removeRedisKeys(infra.redis.url, queuePrefix);
    });
    const start = (name: string, entry: string, readyMessage: string, extra: NodeJS.ProcessEnv = {}) =>
      startService({ name, entry, env: { ...env, ...extra }, logDir: dir, readyMessage }).then((s) => (running.push(s), s));

    // Ingest creates the topics; then the worker, the API and the CRM example beside it.
    await start("ingest", main("ingest"), "ingest running");
    const [, api] = await Promise.all([
      start("worker", main("worker"), "worker running"),
      start("api", main("api"), "api running"),
      start("crm-stage-sync", CRM_SYNC, "crm-stage-sync running", { CRM_DATABASE_URL: database.url, CRM_GROUP_ID: `${run}-crm` }),
    ]);
    const apiLine = readFileSync(api.logFile, "utf8").split("\n").find((l) => l.includes('"msg":"api running"')) ?? "";
    const { address: base } = z.object({ address: z.url() }).parse(JSON.parse(apiLine));
    const key = (await createApiKeyRepo(database.pool).create({ name: run, scopes: ["read", "ingest"] })).key;
    const stream = await openEventStream(`${base}/v1/alerts/stream`, { authorization: `Bearer ${key}` });
    const customer = `${run}-c1`;
    const now = Date.now();
    const event = (id: string, type: string, minutesAgo: number, data: object) => ({ specversion: "1.0", id: `${run}-${id}`, source: "sasl-ssl-test", type, subject: customer, time: new Date(now - minutesAgo * 60_000).toISOString(), data });

    try {
      // The replay script produces over SASL_SSL: a purchase from a JSON-lines file.
      const file = join(dir, "events.jsonl");
      writeFileSync(file, `${JSON.stringify(event("p1", "purchase.completed", 30, { orderId: "o-1", amount: "25.00", currency: "USD" }))}\n`);
      const replay = await runScript(REPLAY, [file], env);
      expect(replay.output).toMatch(/replayed 1 events/);
      expect(replay.code).toBe(0);

      // The API's producer: an NPS detractor score makes the customer at risk; the relay's
      // producer publishes the stage change; the API's feed consumes it into the SSE stream.
      const posted = await fetch(`${base}/v1/events`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify([event("nps", "survey.responded", 1, { kind: "nps", score: 2 })]),
      });
      expect(posted.status).toBe(202);
      const alert = await waitFor("the at-risk alert on the API's stream", async () => stream.alerts()[0], { timeoutMs: 30_000 });
      expect(alert.event).toBe("at-risk");
      expect(JSON.parse(alert.data ?? "null")).toMatchObject({ id: customer, from: "new", reason: "detractor-score" });

      // The CRM example consumed the same change from the secured topic.
      const crm = await waitFor("the CRM copy of the stage", async () => {
        const { rows } = await database.pool.query<{ stage: string }>("SELECT stage FROM crm_customer_stages WHERE customer_id = $1", [customer]);
        return rows[0]?.stage === "at-risk" ? rows[0] : undefined;
      });
      expect(crm.stage).toBe("at-risk");

      // The dead-letter producer: a message that is not JSON lands in the DLQ with its reason.
      const client = createKafkaFromSettings(settings({ KAFKA_SASL_MECHANISM: "scram-sha-512", KAFKA_SASL_USERNAME: "ingest", KAFKA_SASL_PASSWORD: "ingest-secret" }), { clientId: "probe", logger });
      await produceEvents(client, topics.purchase, [{ key: customer, value: "{not json" }]);
      const [dead] = await readTopic(client, dlqTopic, 1);
      expect(dead?.value?.toString()).toBe("{not json");
      expect(JSON.parse(dead?.headers?.dlq_reason?.toString() ?? "null")).toMatchObject({ kind: "not-json" });
      const changes = await readWholeTopic(client, stageTopic);
      expect(changes.map((m) => StageChanged.parse(JSON.parse(m.value?.toString() ?? "null")).data.to)).toEqual(["new", "at-risk"]);
    } finally {
      await stream.close();
      await Promise.all(running.splice(0).map((s) => s.stop()));
    }

    // Wrong credentials: each service exits 1 within seconds, its last line naming the setting.
    const wrongFile = join(dir, "wrong-password");
    writeFileSync(wrongFile, "not-the-password\n", { mode: 0o600 });
    const refused = await Promise.all(
      ["ingest", "worker", "api"].map(async (service) => {
        const t0 = Date.now();
        const result = await runScript(main(service), [], { ...env, KAFKA_SASL_PASSWORD_FILE: wrongFile }, 60_000);
        return { service, ...result, ms: Date.now() - t0 };
      }),
    );
    for (const r of refused) {
      expect(r.code, `${r.service} exit code`).toBe(1);
      expect(r.output, r.service).toMatch(/could not start: KAFKA_SASL_USERNAME \/ KAFKA_SASL_PASSWORD \(or KAFKA_SASL_PASSWORD_FILE\): the broker refused the credentials/);
      expect(r.ms, `${r.service} failed fast, not after minutes of retries`).toBeLessThan(45_000);
    }
  });
});
