import { z } from "zod";

/**
 * A boolean environment variable: "true"/"1"/"yes"/"on" and "false"/"0"/"no"/"off"
 * (any case). Anything else is a configuration error rather than a silent `false`.
 */
export const BoolEnv = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.enum(["true", "1", "yes", "on", "false", "0", "no", "off"]))
  .transform((v) => v === "true" || v === "1" || v === "yes" || v === "on");

/** A comma-separated list, e.g. `KAFKA_BROKERS=a:9092,b:9092`; blanks are dropped. */
export const CommaList = z
  .string()
  .transform((v) => v.split(",").map((s) => s.trim()).filter((s) => s.length > 0))
  .pipe(z.array(z.string()).min(1));

/** A JSON environment variable (default `{}`), parsed; invalid JSON is a configuration error. */
export const JsonEnv = z
  .string()
  .default("{}")
  .transform((s, ctx): unknown => {
    try {
      return JSON.parse(s);
    } catch {
      ctx.addIssue({ code: "custom", message: "must be valid JSON (an object)" });
      return z.NEVER;
    }
  });
