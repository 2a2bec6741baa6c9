import { createServer } from "node:http";
import { gunzipSync } from "node:zlib";
import { z } from "zod";

/** A span as a test reads it back: ids in hex, with the service that exported it. */
export interface CollectedSpan {
  service: string;
  traceId: string;
  spanId: string;
  /** Empty for a root span. */
  parentSpanId: string;
  name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  links: { traceId: string; spanId: string }[];
}

// The parts of OTLP/JSON (ExportTraceServiceRequest) the tests look at; ids are hex in JSON.
const Attribute = z.object({ key: z.string(), value: z.object({ stringValue: z.string().optional() }) });
const ExportRequest = z.object({
  resourceSpans: z.array(
    z.object({
      resource: z.object({ attributes: z.array(Attribute).default([]) }),
      scopeSpans: z.array(
        z.object({
          spans: z.array(
            z.object({
              traceId: z.string(),
              spanId: z.string(),
              parentSpanId: z.string().default(""),
              name: z.string(),
              kind: z.number(),
              links: z.array(z.object({ traceId: z.string(), spanId: z.string() })).default([]),
            }),
          ),
        }),
      ),
    }),
  ),
});

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

/**
 * A loopback OTLP/HTTP receiver for `OTEL_EXPORTER_OTLP_PROTOCOL=http/json`: what the services
 * export lands in `spans`. A body that is not OTLP/JSON is answered 400 and kept in `refused`.
 */
export async function startOtlpCollector() {
  const spans: CollectedSpan[] = [];
  const refused: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks);
      const text = (req.headers["content-encoding"] === "gzip" ? gunzipSync(raw) : raw).toString("utf8");
      const parsed = req.method === "POST" && req.url === "/v1/traces" ? ExportRequest.safeParse(parseJson(text)) : undefined;
      if (!parsed?.success) {
        refused.push(`${req.method ?? "?"} ${req.url ?? "?"}: ${text.slice(0, 200)}`);
        res.writeHead(400).end();
        return;
      }
      for (const rs of parsed.data.resourceSpans) {
        const service = rs.resource.attributes.find((a) => a.key === "service.name")?.value.stringValue ?? "";
        for (const ss of rs.scopeSpans) for (const s of ss.spans) spans.push({ service, ...s });
      }
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    spans,
    refused,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
