import { context, propagation, trace } from "@opentelemetry/api";
import { InMemorySpanExporter, NodeTracerProvider, SimpleSpanProcessor, type ReadableSpan } from "@opentelemetry/sdk-trace-node";

/**
 * Registers a tracer provider that keeps every ended span in memory, for tests of our spans
 * in-process (the services' own export is tested end to end). Global, like any provider: call
 * `stop()` when the file is done, which unregisters it.
 */
export function captureSpans() {
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  provider.register();
  return {
    spans: (): ReadableSpan[] => exporter.getFinishedSpans(),
    async stop() {
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}
