import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { runner } from "node-pg-migrate";

/**
 * Plain SQL migrations, applied in file-name order. Found through the package rather than this
 * file's location: the services' production bundles (npm run build) inline this code elsewhere.
 */
export const MIGRATIONS_DIR = join(dirname(createRequire(import.meta.url).resolve("@lifecycle/db/package.json")), "migrations");

export interface MigrateOptions {
  databaseUrl: string;
  log?: (msg: string) => void;
  /** Applies only this many pending migrations (a test of one migration over data of the schema before it). @defaultValue all */
  count?: number;
}

/**
 * Applies pending migrations. Safe to call from every replica at start-up: node-pg-migrate
 * holds an advisory lock, and `wait` makes late starters wait for it instead of failing.
 * Returns the names of the migrations this call applied.
 */
export async function migrate({ databaseUrl, log = () => undefined, count }: MigrateOptions): Promise<string[]> {
  const applied = await runner({
    databaseUrl,
    dir: MIGRATIONS_DIR,
    direction: "up",
    ...(count === undefined ? {} : { count }),
    migrationsTable: "schema_migrations",
    checkOrder: true,
    singleTransaction: true,
    advisoryLockMode: "wait",
    log,
  });
  return applied.map((m) => m.name);
}
