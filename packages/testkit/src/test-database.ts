import { randomUUID } from "node:crypto";
import { createDatabase, createPool, dropDatabase, migrate, type Pool } from "@lifecycle/db";

export interface TestDatabase {
  url: string;
  pool: Pool;
  /** Closes the pool and drops the database. */
  drop(): Promise<void>;
}

/**
 * Creates a database of its own for a test file, migrated to the latest schema. Tests never
 * touch a database they did not create.
 */
export async function createTestDatabase(adminUrl: string): Promise<TestDatabase> {
  const url = new URL(adminUrl);
  url.pathname = `/lt_${randomUUID().replaceAll("-", "").slice(0, 16)}`;
  const dbUrl = url.toString();
  await createDatabase(dbUrl);
  await migrate({ databaseUrl: dbUrl });
  const pool = createPool({ connectionString: dbUrl, max: 5, applicationName: "lifecycle-tests" });
  return {
    url: dbUrl,
    pool,
    async drop() {
      await pool.end();
      await dropDatabase(dbUrl);
    },
  };
}

/** Runs `fn` on a database of its own (a second one in a test that has the fixture's), dropped after. */
export async function withTestDatabase<T>(adminUrl: string, fn: (db: TestDatabase) => Promise<T>): Promise<T> {
  const db = await createTestDatabase(adminUrl);
  try {
    return await fn(db);
  } finally {
    await db.drop();
  }
}
