import type { Logger } from "pino";

/**
 * Until `done()`, an error escaping start-up (a wrong password, an unreadable certificate, a
 * broker that refuses us) is one fatal log line, its message naming the setting, and exit code 1
 * for the supervisor: not a bare stack trace on stderr, and never a process left hanging.
 * After `done()` the service's own shutdown handling (close-with-grace) takes over.
 */
export function exitOnStartupError(logger: Logger): { done(): void } {
  const fail = (err: unknown) => {
    const message = err instanceof Error ? err.message : String(err);
    logger.fatal({ err }, `could not start: ${message}`);
    logger.flush?.();
    process.exit(1);
  };
  process.on("uncaughtException", fail);
  process.on("unhandledRejection", fail);
  return {
    done() {
      process.off("uncaughtException", fail);
      process.off("unhandledRejection", fail);
    },
  };
}
