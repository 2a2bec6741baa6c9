import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "@lifecycle/config";
import { IngestConfig } from "./config.js";

describe("ingest configuration", () => {
  it("defaults to 12 partitions per created topic, 48 batches merged, 2 transactions in flight on a pool of 10", () => {
    const c = loadConfig(IngestConfig, {});
    expect([c.TOPIC_PARTITIONS, c.INGEST_CONCURRENCY, c.INGEST_TRANSACTIONS, c.PG_POOL_MAX]).toEqual([12, 48, 2, 10]);
    expect([c.PG_STATEMENT_TIMEOUT_MS, c.PG_IDLE_IN_TRANSACTION_TIMEOUT_MS]).toEqual([60_000, 60_000]);
  });

  it("refuses more transactions in flight than the pool has connections to spare", () => {
    expect(() => loadConfig(IngestConfig, { INGEST_TRANSACTIONS: "10", PG_POOL_MAX: "10" })).toThrow(ConfigError);
    expect(() => loadConfig(IngestConfig, { INGEST_TRANSACTIONS: "10", PG_POOL_MAX: "10" })).toThrow(/INGEST_TRANSACTIONS: must be below PG_POOL_MAX/);
    expect(loadConfig(IngestConfig, { INGEST_TRANSACTIONS: "9", PG_POOL_MAX: "10" }).INGEST_TRANSACTIONS).toBe(9);
  });
});
