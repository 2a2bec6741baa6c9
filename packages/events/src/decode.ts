import type { z } from "zod";
import { CloudEventEnvelope } from "./cloud-event.js";
import { DEFAULT_MAX_FUTURE_SKEW_MS } from "./event-time.js";
import { err, ok, type Result } from "./result.js";
import { EVENT_TYPES, LifecycleEvent } from "./schemas/events.js";
import { isStorableText, unstorableTextPath } from "./text.js";

/** Kafka message headers as kafkajs delivers them. */
export type KafkaHeaders = Record<string, Buffer | string | (Buffer | string)[] | undefined>;

/** Every reason the decoder rejects a message for, as its `kind`. */
export const REJECTION_KINDS = [
  "empty", // no value at all
  "not-json", // the bytes are not JSON
  "invalid-text", // a string (or an object key) holds U+0000 or a lone UTF-16 surrogate, which Postgres cannot store
  "invalid-envelope", // a CloudEvents attribute is missing or wrong
  "invalid-time", // `time` is not a real RFC 3339 date-time with an offset, from 1970 on
  "time-in-future", // `time` is later than now + MAX_FUTURE_SKEW
  "unknown-type", // `type` is not one the service knows
  "invalid-data", // `data` does not match its type's schema
  "out-of-range", // a value in `data` is outside its allowed range (a score of 11, a negative amount)
  "unsupported-currency", // a currency with no configured rate to the base currency
] as const;
// (The consumer adds one more on the dead-letter topic: `db-rejected`, when Postgres refuses an
// event the decoder passed, with the SQLSTATE and the server's message.)

/** Why a message was rejected: machine-readable, carried to the dead-letter topic. */
export interface Rejection {
  kind: (typeof REJECTION_KINDS)[number];
  message: string;
  /** The violating paths, e.g. `["time", "data.amount"]`. */
  paths: string[];
}

/** What the decoder compares event times with. */
export interface DecodeOptions {
  /** @defaultValue Date.now() */
  now?: number;
  /** How far past `now` an event time may be. @defaultValue DEFAULT_MAX_FUTURE_SKEW_MS (1 day) */
  maxFutureSkewMs?: number;
}

const CE_HEADERS = ["ce_specversion", "ce_id", "ce_source", "ce_type", "ce_subject", "ce_time"] as const;

const invalidText = (path: string): Rejection => ({
  kind: "invalid-text",
  message: `${path}: holds U+0000 or a lone UTF-16 surrogate, which cannot be stored`,
  paths: [path],
});

function headerText(v: KafkaHeaders[string]): string | undefined {
  const one = Array.isArray(v) ? v[0] : v;
  return one === undefined ? undefined : one.toString();
}

function parseJson(text: string): Result<unknown, Rejection> {
  try {
    return ok(JSON.parse(text));
  } catch (e) {
    return err({ kind: "not-json", message: e instanceof Error ? e.message : "invalid JSON", paths: [] });
  }
}

const pathOf = (i: z.core.$ZodIssue) => i.path.map(String).join(".") || "(root)";

export function issuesToRejection(kind: Rejection["kind"], issues: z.core.$ZodIssue[]): Rejection {
  return { kind, paths: [...new Set(issues.map(pathOf))], message: issues.map((i) => `${pathOf(i)}: ${i.message}`).join("; ") };
}

function classify(issues: z.core.$ZodIssue[], stage: "envelope" | "event"): Rejection["kind"] {
  if (issues.some((i) => i.path[0] === "time")) return "invalid-time";
  if (stage === "envelope") return "invalid-envelope";
  const dataIssues = issues.filter((i) => i.path[0] === "data");
  if (dataIssues.length === 0) return "invalid-envelope";
  return dataIssues.every((i) => i.code === "too_big" || i.code === "too_small") ? "out-of-range" : "invalid-data";
}

/**
 * Decodes one Kafka message into a CloudEvents envelope. Binary mode (a `ce_specversion`
 * header, attributes in `ce_*` headers, the value is `data`) and structured mode (the value is
 * the whole event as JSON) are both accepted.
 */
export function decodeCloudEvent(value: Buffer | null, headers: KafkaHeaders = {}): Result<CloudEventEnvelope, Rejection> {
  if (value === null || value.length === 0) return err({ kind: "empty", message: "message has no value", paths: [] });
  const json = parseJson(value.toString("utf8"));
  if (!json.ok) return json;
  const badPath = unstorableTextPath(json.value);
  if (badPath !== undefined) return err(invalidText(badPath));

  const binary = headerText(headers.ce_specversion) !== undefined;
  if (binary) {
    const badHeader = CE_HEADERS.find((h) => !isStorableText(headerText(headers[h]) ?? ""));
    if (badHeader) return err(invalidText(badHeader));
  }
  const candidate = binary
    ? {
        specversion: headerText(headers.ce_specversion),
        id: headerText(headers.ce_id),
        source: headerText(headers.ce_source),
        type: headerText(headers.ce_type),
        subject: headerText(headers.ce_subject),
        time: headerText(headers.ce_time),
        // Extension attributes are headers too in binary mode; tracing is the one we use.
        traceparent: headerText(headers.ce_traceparent),
        data: json.value,
      }
    : json.value;

  const parsed = CloudEventEnvelope.safeParse(candidate);
  return parsed.success ? ok(parsed.data) : err(issuesToRejection(classify(parsed.error.issues, "envelope"), parsed.error.issues));
}

const KNOWN_TYPES = new Set<string>(EVENT_TYPES);

/** Validates an envelope's `data` against its type's schema. */
export function validateLifecycleEvent(envelope: CloudEventEnvelope): Result<LifecycleEvent, Rejection> {
  if (!KNOWN_TYPES.has(envelope.type)) {
    return err({ kind: "unknown-type", message: `unknown event type ${JSON.stringify(envelope.type)}; known: ${EVENT_TYPES.join(", ")}`, paths: ["type"] });
  }
  const parsed = LifecycleEvent.safeParse(envelope);
  return parsed.success ? ok(parsed.data) : err(issuesToRejection(classify(parsed.error.issues, "event"), parsed.error.issues));
}

/**
 * A Kafka message to a validated lifecycle event, or the reason it was rejected. An event dated
 * later than now + the skew is refused (`time-in-future`): in watermark mode it would move the
 * clock there for good, churning every customer.
 */
export function decodeLifecycleEvent(value: Buffer | null, headers: KafkaHeaders = {}, options: DecodeOptions = {}): Result<LifecycleEvent, Rejection> {
  const envelope = decodeCloudEvent(value, headers);
  if (!envelope.ok) return envelope;
  const latest = (options.now ?? Date.now()) + (options.maxFutureSkewMs ?? DEFAULT_MAX_FUTURE_SKEW_MS);
  if (Date.parse(envelope.value.time) > latest) {
    return err({ kind: "time-in-future", message: `time ${envelope.value.time} is after ${new Date(latest).toISOString()} (now + the allowed skew)`, paths: ["time"] });
  }
  return validateLifecycleEvent(envelope.value);
}
