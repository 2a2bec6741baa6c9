/**
 * How a Postgres error should be treated, by its SQLSTATE class
 * (https://www.postgresql.org/docs/15/errcodes-appendix.html):
 * - `data`: the input is refused (22 data exception, 23 integrity violation, 54 program limit
 *   exceeded). Retrying the same input fails the same way: isolate it and dead-letter it.
 * - `transient`: the server or the connection is in trouble (08 connection, 40 serialization or
 *   deadlock, 53 insufficient resources, 57 operator intervention such as a statement timeout or a
 *   shutdown). Retry with backoff.
 * - `other`: anything else, including errors without a SQLSTATE (a socket closed under the
 *   client). Retried too: a bug in our SQL must stop the line loudly, not dead-letter every event.
 */
export type SqlErrorClass = "data" | "transient" | "other";

const DATA_CLASSES = new Set(["22", "23", "54"]);
const TRANSIENT_CLASSES = new Set(["08", "40", "53", "57"]);

/** The five-character SQLSTATE of a pg error, if it carries one. */
export function sqlStateOf(err: unknown): string | undefined {
  if (typeof err !== "object" || err === null || !("code" in err)) return undefined;
  const { code } = err;
  return typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

export function classifySqlError(err: unknown): SqlErrorClass {
  const cls = sqlStateOf(err)?.slice(0, 2);
  if (cls === undefined) return "other";
  if (DATA_CLASSES.has(cls)) return "data";
  return TRANSIENT_CLASSES.has(cls) ? "transient" : "other";
}

// Socket errors of a server that is down or went away, and the pool's own words for them.
const UNREACHABLE_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "EHOSTUNREACH", "ENOTFOUND"]);
const UNREACHABLE_MESSAGES = /Connection terminated|timeout exceeded when trying to connect|the database system is (starting up|shutting down)/i;

/**
 * Whether `err` says the database cannot be reached now (down, restarting, the connection cut),
 * rather than that the request or our SQL is wrong: a caller should answer "unavailable, retry"
 * (an HTTP 503), not "internal error". Statement timeouts (57014) are not this: the server is up.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  const state = sqlStateOf(err);
  if (state !== undefined) return state.startsWith("08") || (state.startsWith("57") && state !== "57014");
  if (typeof err !== "object" || err === null) return false;
  const code = "code" in err && typeof err.code === "string" ? err.code : undefined;
  if (code !== undefined && UNREACHABLE_CODES.has(code)) return true;
  return err instanceof Error && UNREACHABLE_MESSAGES.test(err.message);
}
