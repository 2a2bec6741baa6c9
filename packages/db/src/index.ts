export { createPool, type Pool, type Queryable } from "./pool.js";
export { withTransaction, withClient, inTransaction } from "./transaction.js";
export { migrate, MIGRATIONS_DIR } from "./migrate.js";
export { ensureDatabase, createDatabase, dropDatabase, withDatabase } from "./database-admin.js";
export { createInboxRepo, type InboxRepo, type InboxEvent } from "./inbox.repo.js";
export { createLifecycleStore, type LifecycleStore, type ApplyResult } from "./lifecycle-store.js";
export { createOutboxRepo, type OutboxRepo, type OutboxMessage, type OutboxRow } from "./outbox.repo.js";
export { createJobOutcomeRepo, type JobOutcomeRepo, type JobOutcome, type RecordedJobOutcome } from "./job-outcome.repo.js";
export { createApiKeyRepo, API_SCOPES, type ApiKeyRepo, type ApiScope, type ApiKeyInfo } from "./api-key.repo.js";
