import type { OutgoingHttpHeaders, ServerResponse } from "node:http";
import type { FastifyReply } from "fastify";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { StageChangedData, type StageChanged } from "@lifecycle/events";
import { DEFAULT_STREAM_LIMITS, type ApiDeps } from "../deps.js";
import { HttpProblem } from "../http/problem.js";
import { KEYED_ERRORS } from "../http/schemas.js";

/** What each alert's `data:` line holds (JSON on one line). */
export const AlertData = z.object({
  id: z.string().describe("The customer id"),
  from: StageChangedData.shape.from,
  reason: StageChangedData.shape.reason,
  at: StageChangedData.shape.at,
  clv: StageChangedData.shape.clv,
});
export type AlertData = z.infer<typeof AlertData>;

/** The stages that raise an alert, and the SSE event name each gets. */
const ALERT_EVENTS: Partial<Record<StageChanged["data"]["to"], string>> = { "at-risk": "at-risk", churned: "churned" };

/** A client that stopped reading this far behind is dropped rather than buffered without end. */
const MAX_BUFFERED_BYTES = 1_048_576;

/** One server-sent event: `id:` is the stage change's CloudEvents id. */
export function formatAlert(e: StageChanged): string | undefined {
  const event = ALERT_EVENTS[e.data.to];
  if (!event) return undefined;
  const data: AlertData = { id: e.subject, from: e.data.from, reason: e.data.reason, at: e.data.at, clv: e.data.clv };
  return `id: ${e.id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** The headers hooks already set (helmet's security headers, rate-limit counters), which a hijacked reply would lose. */
function headersSoFar(reply: FastifyReply): OutgoingHttpHeaders {
  return Object.fromEntries(Object.entries(reply.getHeaders()).filter(([, v]) => v !== undefined));
}

const STREAM_DESCRIPTION = `Server-sent events (\`text/event-stream\`), one per stage change as it is published on \
\`lifecycle-stage-changed\`:
- \`event: at-risk\` when a customer becomes at-risk; \`event: churned\` when one churns (by inactivity or cancellation).
- \`id:\` is the stage change's CloudEvents id; \`data:\` is one line of JSON: \`{ id (customer), from, reason, at, clv }\` \
with the CLV snapshot at the change.
- A comment line (\`: heartbeat\`) every 15 s keeps proxies from closing an idle stream.

The stream is live only: nothing is replayed on connect and \`Last-Event-ID\` is ignored. For what happened while \
disconnected, read GET /v1/alerts/at-risk (or a customer's timeline). Browsers cannot send an Authorization header \
with \`EventSource\`: read the stream with \`fetch\` and a reader.`;

/**
 * GET /v1/alerts/stream. Written on the raw response after `reply.hijack()`: SSE is a few lines
 * of framing, and a plugin would add a dependency for what the 30 lines below do (headers,
 * heartbeat, unsubscribe on close, end on shutdown).
 */
export const alertStreamRoutes: FastifyPluginAsyncZod<{ deps: ApiDeps; heartbeatMs?: number }> = async (app, { deps, heartbeatMs = 15_000 }) => {
  const { perKey, total, keyRecheckMs } = { ...DEFAULT_STREAM_LIMITS, ...deps.streams };
  const open = new Set<ServerResponse>();
  /** Open streams per API key id: a key may hold `perKey`, the process `total`. */
  const byKey = new Map<string, number>();
  // A stream never ends on its own: end them before the server closes, or app.close() would wait for the clients.
  app.addHook("preClose", async () => {
    for (const res of open) res.end();
  });

  app.get(
    "/v1/alerts/stream",
    {
      config: { scope: "read" },
      schema: {
        tags: ["alerts"],
        summary: "At-risk and churned alerts as server-sent events",
        description: STREAM_DESCRIPTION,
        security: [{ apiKey: [] }],
        response: {
          200: { description: "An endless event stream", content: { "text/event-stream": { schema: z.string().describe("`event: at-risk|churned`, `id:`, `data:` (JSON) per alert") } } },
          ...KEYED_ERRORS,
        },
      },
    },
    async (request, reply) => {
      const keyId = request.apiKey?.id ?? "";
      // Refused before the stream starts, as problem details: each open stream holds a socket and a listener for good.
      if (open.size >= total) throw new HttpProblem(503, `the server has ${total} open alert streams (API_SSE_STREAMS_TOTAL); retry later`);
      if ((byKey.get(keyId) ?? 0) >= perKey) throw new HttpProblem(429, `this API key has ${perKey} open alert streams already (API_SSE_STREAMS_PER_KEY)`);
      byKey.set(keyId, (byKey.get(keyId) ?? 0) + 1);
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        ...headersSoFar(reply),
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache, no-transform",
        connection: "keep-alive",
        // nginx and similar proxies buffer responses unless told not to.
        "x-accel-buffering": "no",
      });
      res.write(": connected (live alerts only, no replay)\n\n");
      open.add(res);

      const write = (chunk: string) => {
        if (res.writableEnded || res.destroyed) return;
        if (res.writableLength > MAX_BUFFERED_BYTES) {
          request.log.warn("alert stream client is not reading; closing its stream");
          res.end();
          return;
        }
        res.write(chunk);
      };
      const unsubscribe = deps.stageChanges.subscribe((e) => {
        const chunk = formatAlert(e);
        if (chunk) write(chunk);
      });
      const heartbeat = setInterval(() => write(": heartbeat\n\n"), heartbeatMs);
      // A revoked key's stream ends within `keyRecheckMs`: the key was checked once, when it opened.
      const recheck = setInterval(() => {
        if (!request.apiKey) return; // a stream mounted without authentication (a test) has no key to lose
        void deps.keys.isActive(keyId).then(
          (active) => {
            if (active || res.writableEnded) return;
            request.log.info({ keyId }, "alert stream's API key was revoked; closing the stream");
            write("event: revoked\ndata: {}\n\n");
            res.end();
          },
          (err: unknown) => request.log.warn({ err }, "could not re-check the alert stream's API key; will try again"),
        );
      }, keyRecheckMs);
      request.log.info("alert stream opened");
      res.on("close", () => {
        clearInterval(heartbeat);
        clearInterval(recheck);
        const left = (byKey.get(keyId) ?? 1) - 1;
        if (left > 0) byKey.set(keyId, left);
        else byKey.delete(keyId);
        unsubscribe();
        open.delete(res);
        request.log.info("alert stream closed");
      });
    },
  );
};
