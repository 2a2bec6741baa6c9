import { context, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Link, type Span } from "@opentelemetry/api";
import { parentContext } from "./trace-context.js";

export { SpanKind, type Attributes, type Context, type Link, type Span };

/**
 * Our one tracer. Until `startTracing` registers a provider it is the API's no-op: a span costs an
 * object and records nothing (it keeps its parent's ids, so a `traceparent` still passes through).
 */
export const tracer = trace.getTracer("customer-lifecycle");

/**
 * Attribute names we set beyond the stable semantic conventions: the messaging and CloudEvents
 * ones are still "incubating", and their package advises copying them rather than importing them.
 */
export const ATTR = {
  messagingSystem: "messaging.system",
  messagingOperationType: "messaging.operation.type",
  messagingDestination: "messaging.destination.name",
  messagingPartition: "messaging.destination.partition.id",
  messagingMessageId: "messaging.message.id",
  messagingBatchCount: "messaging.batch.message_count",
  kafkaOffset: "messaging.kafka.offset",
  cloudEventId: "cloudevents.event_id",
  cloudEventType: "cloudevents.event_type",
  dbSystem: "db.system.name",
  dbOperation: "db.operation.name",
  httpMethod: "http.request.method",
  httpStatus: "http.response.status_code",
  serverAddress: "server.address",
  errorType: "error.type",
} as const;

export interface SpanOptions {
  kind?: SpanKind;
  /** A message's `traceparent`, or a context. @defaultValue the active context */
  parent?: string | Context | undefined;
  attributes?: Attributes;
  links?: Link[];
}

/** Marks a span failed with the error, the way every span of ours records a failure. */
export function recordFailure(span: Span, err: unknown): void {
  const error = err instanceof Error ? err : new Error(String(err));
  span.recordException(error);
  span.setAttribute(ATTR.errorType, error.name);
  span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
}

/** Starts a span (not made active). End it yourself; `recordFailure` on an error. */
export function startSpan(name: string, { kind = SpanKind.INTERNAL, parent, attributes, links }: SpanOptions = {}): Span {
  return tracer.startSpan(name, { kind, attributes, links }, parentContext(parent));
}

/**
 * Runs `work` inside a new span, active for what it calls, and ends it: failed (status, exception)
 * when `work` throws, which it rethrows.
 */
export async function withSpan<T>(name: string, { kind = SpanKind.INTERNAL, parent, attributes, links }: SpanOptions, work: (span: Span) => Promise<T>): Promise<T> {
  const parentCtx = parentContext(parent);
  const span = tracer.startSpan(name, { kind, attributes, links }, parentCtx);
  try {
    return await context.with(trace.setSpan(parentCtx, span), () => work(span));
  } catch (err) {
    recordFailure(span, err);
    throw err;
  } finally {
    span.end();
  }
}
