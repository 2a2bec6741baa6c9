import { pino, type Logger, type LoggerOptions } from "pino";

export type { Logger };

/** Keys redacted wherever they appear (one level deep and at the root). */
const DEFAULT_REDACTED = ["authorization", "password", "email", "token", "apiKey", "secret", "cookie"];

export interface CreateLoggerOptions {
  /** Service name, bound to every line. */
  name: string;
  level?: LoggerOptions["level"];
  /** Extra keys to redact, typically the config's `secretKeys`. */
  secretKeys?: readonly string[];
  /** Pretty, human-readable output. @defaultValue `process.stdout.isTTY` */
  pretty?: boolean;
  /** Destination stream (tests capture output with it). */
  destination?: NodeJS.WritableStream;
}

/** One pino root per process; pass it down and derive children with `log.child({ module })`. */
export function createLogger({ name, level = "info", secretKeys = [], pretty, destination }: CreateLoggerOptions): Logger {
  const keys = [...DEFAULT_REDACTED, ...secretKeys];
  const options: LoggerOptions = {
    name,
    level,
    redact: { paths: [...keys, ...keys.map((k) => `*.${k}`), "req.headers.authorization", 'req.headers["x-api-key"]'], censor: "[redacted]" },
    serializers: { err: pino.stdSerializers.err },
  };
  const usePretty = pretty ?? (destination === undefined && process.stdout.isTTY === true);
  if (usePretty) {
    return pino({ ...options, transport: { target: "pino-pretty", options: { translateTime: "HH:MM:ss.l", ignore: "pid,hostname" } } });
  }
  return destination ? pino(options, destination) : pino(options);
}

/** A connection string safe to log: the password, if any, is replaced. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "redacted";
    return u.toString();
  } catch {
    return "[unparseable url]";
  }
}
