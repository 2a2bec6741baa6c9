import { z } from "zod";

/** Thrown when the environment does not satisfy a service's schema; lists every problem at once. */
export class ConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`Invalid configuration:\n${issues.map((i) => `  - ${i}`).join("\n")}`);
    this.name = this.constructor.name;
  }
}

/**
 * Parses `source` (by default the process environment) with `schema`. Call it once, in
 * main.ts: never at import time, so tests can pass their own source.
 */
export function loadConfig<S extends z.ZodType>(schema: S, source: Record<string, string | undefined> = process.env): z.output<S> {
  // Empty strings mean "unset" so that `FOO= npm run x` falls back to the default.
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ""));
  const result = schema.safeParse(cleaned);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`));
  }
  return result.data;
}
