import { createLogger, type Logger } from "@lifecycle/logging";

/**
 * A quiet logger for tests (tests assert behaviour, not log lines, and kafkajs logs retriable
 * broker responses as errors). TEST_LOG_LEVEL=debug shows what the code under test logs.
 */
export function createTestLogger(name = "test"): Logger {
  return createLogger({ name, level: process.env.TEST_LOG_LEVEL ?? "fatal", pretty: false });
}
