// For tests (imports vitest). Scripts that run outside vitest use `@lifecycle/testkit/tools`.
export * from "./tools.js";
export type { TestInfra } from "./test-infra.js";
export { test, it, describe, expect, type InfraFixtures, type TestDatabase } from "./fixtures.js";
export { createTestDatabase, withTestDatabase } from "./test-database.js";
export { createTestLogger } from "./test-logger.js";
export { arbitraryHistory, arbitraryIdentityHistory } from "./arbitrary-events.js";
export { countRecordedEvents, snapshotDifferences, stateSnapshot } from "./state-snapshot.js";
export { captureSpans } from "./span-capture.js";
