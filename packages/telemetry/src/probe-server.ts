import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";

export interface ProbeCheck {
  name: string;
  check: () => Promise<void>;
}

/**
 * `/metrics` (Prometheus text), `/healthz` and `/readyz` for a service without an HTTP API (ingest,
 * worker). Bind it to loopback or a private interface: like most exporters it has no auth; the
 * API's own /metrics needs a key.
 */
export async function startProbeServer({ registry, host, port, checks }: { registry: Registry; host: string; port: number; checks: readonly ProbeCheck[] }): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { "content-type": type, "cache-control": "no-store" });
      res.end(body);
    };
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET") return send(405, "text/plain", "method not allowed\n");
    if (path === "/healthz") return send(200, "application/json", '{"status":"ok"}\n');
    if (path === "/metrics") {
      registry.metrics().then(
        (text) => send(200, registry.contentType, text),
        (err: unknown) => send(500, "text/plain", `${String(err)}\n`),
      );
      return;
    }
    if (path === "/readyz") {
      void runChecks(checks).then((r) => send(r.ready ? 200 : 503, "application/json", `${JSON.stringify({ status: r.ready ? "ready" : "not ready", checks: r.checks })}\n`));
      return;
    }
    send(404, "text/plain", "not found\n");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  const actualPort = typeof address === "object" && address ? (address satisfies AddressInfo).port : port;
  return {
    url: `http://${host}:${actualPort}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * Starts the probe unless turned off (port -1). A busy port is logged, not fatal: a service must
 * not stop consuming because its metrics port is taken.
 */
export async function startProbeIfEnabled(
  options: { registry: Registry; host: string; port: number; checks: readonly ProbeCheck[] },
  log: { info(o: object, m: string): void; warn(o: object, m: string): void },
): Promise<{ close(): Promise<void> }> {
  if (options.port < 0) return { close: async () => undefined };
  try {
    const probe = await startProbeServer(options);
    log.info({ url: probe.url }, "probe endpoint (/metrics, /healthz, /readyz) listening");
    return probe;
  } catch (err) {
    log.warn({ err, port: options.port }, "probe endpoint not started (port busy?); running without it");
    return { close: async () => undefined };
  }
}

/** The usual readiness checks, for whichever of Postgres, Redis and Kafka a service uses. */
export function dependencyChecks({
  postgres,
  redis,
  kafka,
}: {
  postgres?: { query(sql: string): Promise<unknown> };
  redis?: { ping(): Promise<unknown> };
  kafka?: { describeCluster(): Promise<unknown> };
}): ProbeCheck[] {
  return [
    ...(postgres ? [{ name: "postgres", check: async () => void (await postgres.query("SELECT 1")) }] : []),
    ...(redis ? [{ name: "redis", check: async () => void (await redis.ping()) }] : []),
    ...(kafka ? [{ name: "kafka", check: async () => void (await kafka.describeCluster()) }] : []),
  ];
}

/** Runs readiness checks at once, each with a 2-second limit: a hung dependency is not ready. */
export async function runChecks(checks: readonly ProbeCheck[]): Promise<{ ready: boolean; checks: Record<string, { ok: boolean; error?: string }> }> {
  const results: Record<string, { ok: boolean; error?: string }> = {};
  await Promise.all(
    checks.map(async (c) => {
      try {
        await Promise.race([c.check(), new Promise<never>((_, reject) => setTimeout(() => reject(new Error("no answer in 2000 ms")), 2_000).unref())]);
        results[c.name] = { ok: true };
      } catch (err) {
        results[c.name] = { ok: false, error: err instanceof Error ? err.message : String(err) };
      }
    }),
  );
  return { ready: Object.values(results).every((r) => r.ok), checks: results };
}
