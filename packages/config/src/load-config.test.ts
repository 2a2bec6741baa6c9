import { describe, expect, it } from "vitest";
import { z } from "zod";
import { BoolEnv, ConfigError, kafkaEnv, loadConfig, pgEnv } from "./index.js";

describe("loadConfig", () => {
  const schema = z.object({ ...pgEnv, ...kafkaEnv, DRY_RUN: BoolEnv.default(false) });

  it("applies defaults for unset and empty variables", () => {
    const cfg = loadConfig(schema, { KAFKA_BROKERS: "" });
    expect(cfg.DATABASE_URL).toBe("postgres://postgres@127.0.0.1:5432/lifecycle");
    expect(cfg.KAFKA_BROKERS).toEqual(["127.0.0.1:9092"]);
    expect(cfg.PG_POOL_MAX).toBe(10);
    expect(cfg.DRY_RUN).toBe(false);
  });

  it("parses lists, numbers and booleans", () => {
    const cfg = loadConfig(schema, { KAFKA_BROKERS: "a:1, b:2,", PG_POOL_MAX: "4", DRY_RUN: "Yes" });
    expect(cfg.KAFKA_BROKERS).toEqual(["a:1", "b:2"]);
    expect(cfg.PG_POOL_MAX).toBe(4);
    expect(cfg.DRY_RUN).toBe(true);
  });

  it("reports every invalid variable by name", () => {
    let caught: unknown;
    try {
      loadConfig(schema, { DATABASE_URL: "not a url", PG_POOL_MAX: "0", DRY_RUN: "maybe" });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const issues = caught instanceof ConfigError ? caught.issues.join("\n") : "";
    expect(issues).toMatch(/^DATABASE_URL:/m);
    expect(issues).toMatch(/^PG_POOL_MAX:/m);
    expect(issues).toMatch(/^DRY_RUN:/m);
  });
});
