import { diag, DiagLogLevel } from "@opentelemetry/api";
import { z } from "zod";
import { BoolEnv } from "@lifecycle/config";

const HttpUrl = z.url({ protocol: /^https?$/, error: "must be an http:// or https:// URL" });
const Protocol = z
  .enum(["http/protobuf", "http/json", "grpc"])
  .refine((p) => p !== "grpc", "grpc is not supported here: use http/protobuf or http/json (a collector's port 4318)");

/**
 * The standard OpenTelemetry variables this code branches on; the SDK reads the rest itself
 * (OTEL_EXPORTER_OTLP_HEADERS / _TIMEOUT / _COMPRESSION / _CERTIFICATE, OTEL_TRACES_SAMPLER and
 * its _ARG, OTEL_BSP_*, OTEL_RESOURCE_ATTRIBUTES, OTEL_SERVICE_NAME). Parsed here so a typo stops
 * start-up naming the variable instead of silently tracing nothing.
 */
export const tracingEnv = {
  /** Turns OpenTelemetry off whatever else is set. @defaultValue false */
  OTEL_SDK_DISABLED: BoolEnv.default(false),
  /** `otlp` or `none`. @defaultValue unset: `otlp` when an OTLP endpoint is set, else off */
  OTEL_TRACES_EXPORTER: z.enum(["otlp", "none"]).optional(),
  /** The collector's base URL, e.g. `http://otel-collector:4318` (`/v1/traces` is appended). */
  OTEL_EXPORTER_OTLP_ENDPOINT: HttpUrl.optional(),
  /** The full traces URL; wins over OTEL_EXPORTER_OTLP_ENDPOINT. */
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: HttpUrl.optional(),
  /** @defaultValue http/protobuf */
  OTEL_EXPORTER_OTLP_PROTOCOL: Protocol.default("http/protobuf"),
  /** Wins over OTEL_EXPORTER_OTLP_PROTOCOL for traces. */
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: Protocol.optional(),
};
export type TracingSettings = z.infer<z.ZodObject<typeof tracingEnv>>;

export type TracingPlan = { on: true; protocol: "http/protobuf" | "http/json"; endpoint: string | undefined } | { on: false; why: string };

/** Whether the settings turn tracing on, and how it exports. Off unless an exporter is asked for. */
export function tracingPlan(s: TracingSettings): TracingPlan {
  if (s.OTEL_SDK_DISABLED) return { on: false, why: "OTEL_SDK_DISABLED" };
  if (s.OTEL_TRACES_EXPORTER === "none") return { on: false, why: "OTEL_TRACES_EXPORTER=none" };
  const endpoint = s.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? s.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (s.OTEL_TRACES_EXPORTER === undefined && endpoint === undefined) return { on: false, why: "no OTLP endpoint and no OTEL_TRACES_EXPORTER" };
  const protocol = s.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? s.OTEL_EXPORTER_OTLP_PROTOCOL;
  // The refinement above already refused grpc; this narrows the type.
  return { on: true, protocol: protocol === "http/json" ? "http/json" : "http/protobuf", endpoint };
}

export interface Tracing {
  on: boolean;
  /** Exports the spans still buffered, then stops: call it last on shutdown. */
  shutdown(): Promise<void>;
}

type Log = { info(o: object, m: string): void; warn(o: object, m: string): void };

/** The collector's address for the log line, without credentials a URL may carry. */
const describeEndpoint = (url: string | undefined) => (url === undefined ? "http://localhost:4318 (the default)" : `${new URL(url).origin}${new URL(url).pathname}`);

/**
 * Registers the tracer provider when the settings turn tracing on: spans batched to an OTLP/HTTP
 * collector, sampled by OTEL_TRACES_SAMPLER (default parentbased_always_on), W3C trace context.
 * Off (the default) it loads nothing: the API's no-op tracer stays, and a span costs an object.
 */
export async function startTracing({ settings, serviceName, logger }: { settings: TracingSettings; serviceName: string; logger: Log }): Promise<Tracing> {
  const plan = tracingPlan(settings);
  if (!plan.on) return { on: false, shutdown: async () => undefined };
  // Loaded only when on: a process that does not trace does not pay for the SDK.
  const [{ NodeTracerProvider }, { BatchSpanProcessor }, resources, { ATTR_SERVICE_NAME }, exporter] = await Promise.all([
    import("@opentelemetry/sdk-trace-node"),
    import("@opentelemetry/sdk-trace-base"),
    import("@opentelemetry/resources"),
    import("@opentelemetry/semantic-conventions"),
    plan.protocol === "http/json" ? import("@opentelemetry/exporter-trace-otlp-http") : import("@opentelemetry/exporter-trace-otlp-proto"),
  ]);
  // The SDK reports export failures through `diag`; without a logger they would vanish.
  diag.setLogger(
    { error: (m, ...a) => logger.warn({ detail: a }, `tracing: ${m}`), warn: (m, ...a) => logger.warn({ detail: a }, `tracing: ${m}`), info: () => undefined, debug: () => undefined, verbose: () => undefined },
    DiagLogLevel.WARN,
  );
  const { detectResources, envDetector, hostDetector, resourceFromAttributes, serviceInstanceIdDetector } = resources;
  // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (the env detector) win over our defaults.
  const resource = resourceFromAttributes({ [ATTR_SERVICE_NAME]: serviceName, "service.namespace": "customer-lifecycle", "process.pid": process.pid }).merge(
    detectResources({ detectors: [hostDetector, serviceInstanceIdDetector, envDetector] }),
  );
  const provider = new NodeTracerProvider({ resource, spanProcessors: [new BatchSpanProcessor(new exporter.OTLPTraceExporter())] });
  provider.register();
  logger.info({ endpoint: describeEndpoint(plan.endpoint), protocol: plan.protocol }, "tracing on: spans exported over OTLP");
  return {
    on: true,
    async shutdown() {
      await provider.shutdown().catch((err: unknown) => logger.warn({ err }, "tracing: could not export the last spans"));
    },
  };
}
