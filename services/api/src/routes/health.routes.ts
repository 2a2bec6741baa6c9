import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { runChecks } from "@lifecycle/telemetry";
import type { ApiDeps } from "../deps.js";

/** Liveness, readiness (Kafka, Postgres, Redis) and Prometheus metrics. */
export const healthRoutes: FastifyPluginAsyncZod<{ deps: ApiDeps }> = async (app, { deps }) => {
  app.get("/healthz", { schema: { tags: ["health"], summary: "The process is up", response: { 200: z.object({ status: z.literal("ok") }) } } }, async () => ({ status: "ok" as const }));

  const Ready = z.object({ status: z.enum(["ready", "not ready"]), checks: z.record(z.string(), z.object({ ok: z.boolean(), error: z.string().optional() })) });
  app.get("/readyz", { schema: { tags: ["health"], summary: "Kafka, Postgres and Redis answer", response: { 200: Ready, 503: Ready } } }, async (_request, reply) => {
    const { ready, checks } = await runChecks(deps.readiness);
    return reply.status(ready ? 200 : 503).send({ status: ready ? "ready" : "not ready", checks });
  });

  app.get("/metrics", { config: { scope: "read" }, schema: { tags: ["health"], summary: "Prometheus metrics (needs a key with the read scope)", security: [{ apiKey: [] }] } }, async (_request, reply) => {
    return reply.type(deps.registry.contentType).send(await deps.registry.metrics());
  });
};
