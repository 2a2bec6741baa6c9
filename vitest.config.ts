import { defineConfig } from "vitest/config";

// Two projects: `unit` is pure code with no IO (fast, no infrastructure); `integration` runs
// against a real Kafka broker, Postgres and Redis that the global setup provides once per run.
export default defineConfig({
  test: {
    reporters: ["default", "./test/support/summary-line-reporter.ts"],
    projects: [
      {
        test: {
          name: "unit",
          // Pure tests run first: a broken formula shows up in seconds, before the broker starts.
          sequence: { groupOrder: 0 },
          include: ["packages/*/src/**/*.test.ts", "services/*/src/**/*.test.ts"],
          exclude: ["**/*.int.test.ts", "**/node_modules/**"],
        },
      },
      {
        test: {
          name: "integration",
          sequence: { groupOrder: 1 },
          include: ["packages/*/src/**/*.int.test.ts", "services/*/src/**/*.int.test.ts", "test/**/*.test.ts"],
          exclude: ["**/node_modules/**"],
          globalSetup: ["packages/testkit/src/global-setup.ts"],
          // Two cores shared with the broker and the databases: keep integration files few at a time.
          maxWorkers: 2,
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
