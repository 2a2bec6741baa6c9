import type { TestProject } from "vitest/node";
import { resolveInfra } from "./resolve-infra.js";

// Runs once per `vitest run` for the integration project: starts (or finds) Kafka, Postgres and
// Redis, names the provider of each, and hands the URLs to the tests via provide/inject.
export default async function setup(project: TestProject) {
  const log = (line: string) => console.log(line);
  const t0 = Date.now();
  const running = await resolveInfra(log);
  log(`[testkit] test infrastructure: ${running.infra.description} (ready in ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  project.provide("infra", running.infra);
  return async () => {
    await running.stop();
  };
}
