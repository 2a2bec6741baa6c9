import { context, isSpanContextValid, ROOT_CONTEXT, trace, TraceFlags, type Context, type Span, type SpanContext } from "@opentelemetry/api";
import { TRACEPARENT } from "@lifecycle/events";

// Our hops carry the trace in the message itself (a CloudEvent's `traceparent`, a job's data, an
// outbox row), so the context is read and written here explicitly instead of through a global
// propagator: it works the same whether or not a context manager is registered.

/** A W3C `traceparent` to the remote span context it names; undefined when it is not a valid one. */
export function parseTraceparent(text: string | undefined): SpanContext | undefined {
  if (text === undefined) return undefined;
  const m = TRACEPARENT.exec(text);
  // Version ff is forbidden; a later version than 00 keeps these four fields, so they are read alike.
  if (!m || m[1] === "ff") return undefined;
  const [, , traceId = "", spanId = "", flags = ""] = m;
  const parsed: SpanContext = { traceId, spanId, traceFlags: parseInt(flags, 16) & TraceFlags.SAMPLED, isRemote: true };
  // All-zero ids are invalid.
  return isSpanContextValid(parsed) ? parsed : undefined;
}

/** A span context as a version-00 `traceparent`. */
export function formatTraceparent({ traceId, spanId, traceFlags }: SpanContext): string {
  return `00-${traceId}-${spanId}-${(traceFlags & 0xff).toString(16).padStart(2, "0")}`;
}

/** The `traceparent` that continues from `span`; undefined for a span that belongs to no trace. */
export function traceparentOf(span: Span): string | undefined {
  const sc = span.spanContext();
  return isSpanContextValid(sc) ? formatTraceparent(sc) : undefined;
}

/** The `traceparent` of the active span: undefined outside one (always, with tracing off). */
export function activeTraceparent(): string | undefined {
  const span = trace.getActiveSpan();
  return span && traceparentOf(span);
}

/**
 * The parent context for a span that continues `parent`: a message's `traceparent` (a new trace
 * when it is missing or invalid), or a context already at hand. @defaultValue the active context
 */
export function parentContext(parent: string | Context | undefined): Context {
  if (parent === undefined) return context.active();
  if (typeof parent !== "string") return parent;
  const sc = parseTraceparent(parent);
  return sc ? trace.setSpanContext(ROOT_CONTEXT, sc) : ROOT_CONTEXT;
}
