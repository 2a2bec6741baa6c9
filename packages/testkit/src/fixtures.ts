import { describe, expect, inject, test as base } from "vitest";
import type { TestInfra } from "./test-infra.js";
import { createTestDatabase, type TestDatabase } from "./test-database.js";

export type { TestDatabase };

export interface InfraFixtures {
  /** The run's Kafka, Postgres and Redis (from the global setup). */
  infra: TestInfra;
  /** A freshly created, migrated database for this test file, dropped when the file ends. */
  database: TestDatabase;
}

/** `test` with infrastructure fixtures: `test("...", async ({ infra, database }) => ...)`. */
export const test = base.extend<InfraFixtures>({
  infra: [
    // eslint-disable-next-line no-empty-pattern -- vitest reads the fixture's dependencies from this pattern
    async ({}, use) => {
      await use(inject("infra"));
    },
    { scope: "file" },
  ],
  database: [
    async ({ infra }, use) => {
      const db = await createTestDatabase(infra.postgres.adminUrl);
      try {
        await use(db);
      } finally {
        await db.drop();
      }
    },
    { scope: "file" },
  ],
});

export const it = test;
export { describe, expect };
