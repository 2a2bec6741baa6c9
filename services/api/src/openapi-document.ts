import { Registry } from "prom-client";
import { createApiKeyRepo, createPool } from "@lifecycle/db";
import { EngineSettings } from "@lifecycle/domain";
import { buildApp } from "./app.js";

/**
 * The OpenAPI document as the running API serves it at /docs/json, built from the routes' zod
 * schemas without connecting anywhere (nothing is called while building the document).
 */
export async function buildOpenApiDocument(): Promise<string> {
  const pool = createPool({ connectionString: "postgres://openapi-document.invalid/none", max: 1 });
  const app = await buildApp({
    pool,
    keys: createApiKeyRepo(pool),
    settings: EngineSettings.parse({}),
    rates: { USD: "1" },
    publishEvents: async () => undefined,
    stageChanges: { subscribe: () => () => undefined },
    queues: [],
    readiness: [],
    registry: new Registry(),
    rateLimitPerMinute: 1,
    bodyLimitBytes: 1_048_576,
  });
  await app.ready();
  const doc = JSON.stringify(app.swagger(), null, 2);
  await app.close();
  await pool.end();
  return `${doc}\n`;
}
