import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { runChecks } from "@lifecycle/telemetry";
import { DEFAULT_LIMITS, type ApiDeps } from "../deps.js";

/** Liveness, readiness (Kafka, Postgres, Redis) and Prometheus metrics. */
export const healthRoutes: FastifyPluginAsyncZod<{ deps: ApiDeps }> = async (app, { deps }) => {
  app.get("/healthz", { schema: { tags: ["health"], summary: "The process is up", response: { 200: z.object({ status: z.literal("ok") }) } } }, async () => ({ status: "ok" as const }));

  // Open (probes have no key), so limited per address and without the dependencies' error text
  // (an address, a user name): that goes to the log, where operators look.
  const Ready = z.object({ status: z.enum(["ready", "not ready"]), checks: z.record(z.string(), z.object({ ok: z.boolean() })) });
  const readyzPerMinute = deps.limits?.readyzPerMinute ?? DEFAULT_LIMITS.readyzPerMinute;
  app.get(
    "/readyz",
    { config: { rateLimit: { max: readyzPerMinute, timeWindow: 60_000 } }, schema: { tags: ["health"], summary: `Kafka, Postgres and Redis answer (at most ${readyzPerMinute} a minute per address)`, response: { 200: Ready, 503: Ready } } },
    async (request, reply) => {
      const { ready, checks } = await runChecks(deps.readiness);
      const failing = Object.entries(checks).filter(([, c]) => !c.ok);
      if (failing.length) request.log.warn({ failing: Object.fromEntries(failing.map(([name, c]) => [name, c.error])) }, "not ready");
      return reply.status(ready ? 200 : 503).send({ status: ready ? "ready" : "not ready", checks: Object.fromEntries(Object.entries(checks).map(([name, c]) => [name, { ok: c.ok }])) });
    },
  );

  app.get("/metrics", { config: { scope: "read" }, schema: { tags: ["health"], summary: "Prometheus metrics (needs a key with the read scope)", security: [{ apiKey: [] }] } }, async (_request, reply) => {
    return reply.type(deps.registry.contentType).send(await deps.registry.metrics());
  });
};
