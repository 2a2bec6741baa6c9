export { startProbeServer, startProbeIfEnabled, dependencyChecks, runChecks, type ProbeCheck } from "./probe-server.js";
export { startTracing, tracingEnv, tracingPlan, type Tracing, type TracingPlan, type TracingSettings } from "./tracing.js";
export { ATTR, recordFailure, SpanKind, startSpan, tracer, withSpan, type Attributes, type Context, type Link, type Span, type SpanOptions } from "./spans.js";
export { activeTraceparent, formatTraceparent, parentContext, parseTraceparent, traceparentOf } from "./trace-context.js";
