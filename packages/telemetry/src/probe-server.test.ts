import { Counter, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { startProbeServer } from "./probe-server.js";

describe("probe server", () => {
  it("serves metrics, health, and readiness that turns 503 when a check fails", async () => {
    const registry = new Registry();
    new Counter({ name: "demo_total", help: "a counter", registers: [registry] }).inc(3);
    let redisUp = true;
    const probe = await startProbeServer({
      registry, host: "127.0.0.1", port: 0,
      checks: [{ name: "redis", check: async () => { if (!redisUp) throw new Error("down"); } }],
    });
    try {
      expect(await (await fetch(`${probe.url}/metrics`)).text()).toContain("demo_total 3");
      expect(await (await fetch(`${probe.url}/healthz`)).json()).toEqual({ status: "ok" });
      expect((await fetch(`${probe.url}/readyz`)).status).toBe(200);
      redisUp = false;
      const notReady = await fetch(`${probe.url}/readyz`);
      expect(notReady.status).toBe(503);
      expect(await notReady.json()).toEqual({ status: "not ready", checks: { redis: { ok: false, error: "down" } } });
      expect((await fetch(`${probe.url}/nope`)).status).toBe(404);
    } finally {
      await probe.close();
    }
  });
});
