import { rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll } from "vitest";
import { createPool, PostgresSettingsError, verifyPostgres } from "@lifecycle/db";
import { createRedisConnection, verifyRedis } from "@lifecycle/queue";
import { describe, expect, it, startService, uniqueName } from "@lifecycle/testkit";
import { makeTestCa, startTlsPostgres, startTlsRedis, type TestCa, type TlsPostgres, type TlsRedis } from "./support/tls-servers.js";

// Issue 10, point 1: Postgres TLS through DATABASE_URL (sslmode, sslrootcert) and Redis over
// rediss:// with a password and a private CA, against servers that accept nothing else; a wrong
// credential or an untrusted certificate is an error naming the setting.
let ca: TestCa;
let other: TestCa;
let postgres: TlsPostgres;
let redis: TlsRedis;

beforeAll(async () => {
  ca = makeTestCa("lifecycle");
  other = makeTestCa("someone-else");
  [postgres, redis] = await Promise.all([startTlsPostgres(ca), startTlsRedis(ca)]);
}, 60_000);
afterAll(async () => {
  await Promise.allSettled([postgres?.stop(), redis?.stop()]);
  for (const c of [ca, other]) if (c) rmSync(c.dir, { recursive: true, force: true });
});

describe("Postgres over TLS", () => {
  it("connects with sslmode=verify-full and the CA as sslrootcert, over TLS", async () => {
    const url = postgres.url(`sslmode=verify-full&sslrootcert=${ca.caFile}`);
    await verifyPostgres(url);
    const pool = createPool({ connectionString: url, max: 1 });
    try {
      const { rows } = await pool.query<{ ssl: boolean }>("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()");
      expect(rows).toEqual([{ ssl: true }]);
    } finally {
      await pool.end();
    }
  });

  it.each([
    ["without sslmode (plaintext)", () => postgres.url(""), /^DATABASE_URL: Postgres refused the connection \(pg_hba\.conf/],
    ["with a wrong password", () => postgres.url(`sslmode=verify-full&sslrootcert=${ca.caFile}`, "wrong"), /^DATABASE_URL: Postgres refused the password/],
    ["trusting another CA", () => postgres.url(`sslmode=verify-full&sslrootcert=${other.caFile}`), /^DATABASE_URL: the server's certificate is not trusted/],
    ["with a root certificate file that is not there", () => postgres.url("sslmode=verify-full&sslrootcert=/nonexistent/ca.pem"), /^DATABASE_URL: cannot read a certificate file/],
  ])("refuses, naming DATABASE_URL, %s", async (_, url, message) => {
    const failure = verifyPostgres(url());
    await expect(failure).rejects.toBeInstanceOf(PostgresSettingsError);
    await expect(failure).rejects.toThrow(message);
  });
});

describe("Redis over TLS (rediss://)", () => {
  it("answers with the password and the CA from REDIS_TLS_CA_FILE", async () => {
    const connection = createRedisConnection(redis.url(), "tls-right", { tlsCaFile: ca.caFile });
    try {
      await verifyRedis(connection);
      await connection.set("tls-check", "ok", "EX", 10);
      expect(await connection.get("tls-check")).toBe("ok");
    } finally {
      connection.disconnect();
    }
  });

  it.each([
    ["a wrong password", () => createRedisConnection(redis.url("wrong"), "tls-wrong", { tlsCaFile: ca.caFile }), /^REDIS_URL: Redis refused the credentials/],
    ["an untrusted certificate", () => createRedisConnection(redis.url(), "tls-untrusted", { tlsCaFile: other.caFile }), /^REDIS_TLS_CA_FILE: the Redis server's certificate is not trusted/],
  ])("fails start-up at once, naming the setting, with %s", async (_, connect, message) => {
    const connection = connect();
    const t0 = Date.now();
    try {
      await expect(verifyRedis(connection, { timeoutMs: 10_000 })).rejects.toThrow(message);
      expect(Date.now() - t0).toBeLessThan(5_000);
    } finally {
      connection.disconnect();
    }
  });

  it("refuses a CA file with a plain redis:// URL", () => {
    expect(() => createRedisConnection(`redis://127.0.0.1:${redis.port}`, "tls-mismatch", { tlsCaFile: ca.caFile })).toThrow(/^REDIS_TLS_CA_FILE: set only with a rediss:\/\/ REDIS_URL/);
  });
});

describe("a service on TLS Postgres and TLS Redis", () => {
  it("ingest migrates, starts and stops cleanly with both connections secured", { timeout: 90_000 }, async ({ infra }) => {
    const name = uniqueName("tls-ingest");
    const service = await startService({
      name,
      entry: fileURLToPath(new URL("../services/ingest/src/main.ts", import.meta.url)),
      logDir: fileURLToPath(new URL(`../.run/test-logs/${name}`, import.meta.url)),
      readyMessage: "ingest running",
      env: {
        ...process.env,
        DATABASE_URL: postgres.url(`sslmode=verify-full&sslrootcert=${ca.caFile}`),
        REDIS_URL: redis.url(),
        REDIS_TLS_CA_FILE: ca.caFile,
        KAFKA_BROKERS: infra.kafka.brokers.join(","),
        INPUT_TOPICS: [1, 2, 3, 4].map((n) => `${name}-in-${n}`).join(","),
        DLQ_TOPIC: `${name}-dlq`,
        STAGE_CHANGED_TOPIC: `${name}-stages`,
        INGEST_GROUP_ID: name,
        TOPIC_PARTITIONS: "1",
        PROBE_PORT: "-1",
      },
    });
    await service.stop();
    expect(service.child.exitCode).toBe(0);
  });
});
