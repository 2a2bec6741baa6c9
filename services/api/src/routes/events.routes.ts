import type { FastifyBaseLogger } from "fastify";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { decodeForIngest, REJECTION_KINDS, type LifecycleEvent, type Rejection, type Result } from "@lifecycle/events";
import { ATTR, recordFailure, SpanKind, withSpan } from "@lifecycle/telemetry";
import type { ApiDeps } from "../deps.js";
import { HttpProblem, problem, sendProblem } from "../http/problem.js";
import { withTimeout } from "../http/with-timeout.js";
import { KEYED_ERRORS, ProblemResponse } from "../http/schemas.js";

const MAX_BATCH = 1_000;
/** How long producing may take before the answer is 503 (see withTimeout). */
export const PUBLISH_TIMEOUT_MS = 10_000;

const EventsBody = z
  .union([z.array(z.unknown()).min(1).max(MAX_BATCH), z.record(z.string(), z.unknown())], {
    error: `must be a CloudEvent (a JSON object) or a batch: a JSON array of 1 to ${MAX_BATCH} of them`,
  })
  .describe("CloudEvents 1.0 in structured JSON mode (CONTRACT.md section 1): one object, or an array of 1 to 1000");

const RejectionSchema = z.object({
  kind: z.enum(REJECTION_KINDS),
  message: z.string(),
  paths: z.array(z.string()),
});

const EventResult = z.object({
  index: z.number().int().min(0).describe("Position in the batch (0 for a single event)"),
  id: z.string().nullable().describe("The event's `id`, when it has a string one"),
  status: z.enum(["accepted", "rejected"]),
  reason: RejectionSchema.optional().describe("Why it was rejected: the same reasons the Kafka consumer sends to the dead-letter topic"),
});
type EventResult = z.infer<typeof EventResult>;

const Accepted = z.object({
  accepted: z.number().int().min(0),
  rejected: z.number().int().min(0),
  results: z.array(EventResult),
});

const EVENTS_DESCRIPTION = `Events over HTTP, for systems that cannot produce to Kafka. Each event is validated exactly \
as the Kafka consumer validates it (the same decoder); the valid ones are produced to their input topic (by type, keyed \
by customer id) and answered \`accepted\` once Kafka has them, the invalid ones are listed with machine-readable reasons \
and not produced. Content types: \`application/json\`, \`application/cloudevents+json\` (one event), \
\`application/cloudevents-batch+json\` (an array).

Re-sending is safe: the event \`id\` is the idempotency key. A 503 means Kafka did not confirm the batch: no event is \
claimed accepted, though some may have been written; send the whole batch again. An amount in a currency without a \
configured rate is rejected here (\`unsupported-currency\`), as the consumer would dead-letter it; so is a time later than \
now + \`MAX_FUTURE_SKEW_MS\` (\`time-in-future\`) and a string Postgres cannot store (\`invalid-text\`).`;

const oneHeader = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

const idOf = (item: unknown) => z.object({ id: z.string() }).safeParse(item).data?.id ?? null;

/** The consumer's own checks, fed the bytes a producer would have sent (also the consent routes'). */
export function validate(item: unknown, deps: Pick<ApiDeps, "rates" | "maxFutureSkewMs">): Result<LifecycleEvent, Rejection> {
  return decodeForIngest(Buffer.from(JSON.stringify(item) ?? "", "utf8"), {}, { rates: deps.rates, maxFutureSkewMs: deps.maxFutureSkewMs });
}

/** The answer of a route that produces one event it made (consent, merge): accepted once Kafka has it. */
export const EventAccepted = z.object({ eventId: z.string().describe("The produced CloudEvent's id"), status: z.literal("accepted") });

/**
 * Produces one event a route made (a consent change, a merge): checked by the consumer's own rules
 * first (a 400 saying what is wrong), then resolved with its id once Kafka has it (a 503 when Kafka
 * does not confirm in time; `what` names the change in that answer, e.g. "the consent change").
 */
export async function produceEvent(deps: Pick<ApiDeps, "rates" | "maxFutureSkewMs" | "publishEvents">, log: FastifyBaseLogger, event: Record<string, unknown>, what: string): Promise<string> {
  const checked = validate(event, deps);
  if (!checked.ok) throw new HttpProblem(400, `${checked.error.kind}: ${checked.error.message}`);
  await withTimeout(deps.publishEvents([checked.value]), PUBLISH_TIMEOUT_MS).catch((err: unknown) => {
    log.error({ err, eventType: checked.value.type }, "could not produce an event to Kafka");
    throw new HttpProblem(503, `Kafka is unavailable: ${what} was not recorded; retry`);
  });
  return checked.value.id;
}

/** POST /v1/events: validated, then produced to Kafka. */
export const eventsRoutes: FastifyPluginAsyncZod<{ deps: ApiDeps }> = async (app, { deps }) => {
  // The CloudEvents HTTP binding's structured and batch media types are JSON: parse them as such.
  app.addContentTypeParser(["application/cloudevents+json", "application/cloudevents-batch+json"], { parseAs: "string" }, app.getDefaultJsonParser("error", "error"));

  app.post(
    "/v1/events",
    {
      config: { scope: "ingest" },
      schema: {
        tags: ["events"],
        summary: "Ingest a batch of CloudEvents over HTTP",
        description: EVENTS_DESCRIPTION,
        security: [{ apiKey: [] }],
        body: EventsBody,
        response: {
          202: Accepted,
          ...KEYED_ERRORS,
          413: ProblemResponse.describe("The body exceeds the size limit"),
          503: ProblemResponse.describe("Kafka did not confirm: nothing accepted, retry the batch"),
        },
      },
    },
    // A caller's `traceparent` header makes the request a span of its trace, and the events produced
    // continue it (the publisher stamps each event that has no traceparent of its own).
    (request, reply) =>
      withSpan("POST /v1/events", { kind: SpanKind.SERVER, parent: oneHeader(request.headers.traceparent), attributes: { [ATTR.httpMethod]: "POST", "http.route": "/v1/events" } }, async (span) => {
        const items = Array.isArray(request.body) ? request.body : [request.body];
        const valid: LifecycleEvent[] = [];
        const results: EventResult[] = items.map((item, index) => {
          const checked = validate(item, deps);
          if (!checked.ok) return { index, id: idOf(item), status: "rejected", reason: checked.error };
          valid.push(checked.value);
          return { index, id: checked.value.id, status: "accepted" };
        });
        if (valid.length) {
          try {
            await withTimeout(deps.publishEvents(valid), PUBLISH_TIMEOUT_MS);
          } catch (err) {
            request.log.error({ err, events: valid.length }, "could not produce events to Kafka");
            recordFailure(span, err);
            return sendProblem(reply, request, problem(503, "Kafka is unavailable: no event was accepted; retry the batch (event ids make a re-send safe)"), { "retry-after": "5" });
          }
        }
        request.log.info({ accepted: valid.length, rejected: items.length - valid.length }, "events received over HTTP");
        return reply.status(202).send({ accepted: valid.length, rejected: items.length - valid.length, results });
      }),
  );
};
