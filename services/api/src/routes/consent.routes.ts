import { randomUUID } from "node:crypto";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { createAuditLogRepo } from "@lifecycle/db";
import { verifyUnsubscribeToken } from "@lifecycle/engine";
import { ConsentChannel } from "@lifecycle/events";
import type { ApiDeps } from "../deps.js";
import { HttpProblem } from "../http/problem.js";
import { KEYED_ERRORS, ProblemResponse } from "../http/schemas.js";
import { CustomerParams } from "./customers.schemas.js";
import { EventAccepted, produceEvent } from "./events.routes.js";

const ConsentBody = z.strictObject({
  channel: ConsentChannel,
  status: z.enum(["granted", "withdrawn", "suppressed"]),
  source: z.string().min(1).max(64).default("api").describe("Where it came from: preference-centre, import, hard-bounce, complaint, …"),
});
const TokenQuery = z.strictObject({ token: z.string().min(1).max(2_048) });

/**
 * Consent changes go the way of every other fact: as a customer.consent.updated event through
 * Kafka, recorded by ingest in order with the customer's other events (the latest event wins).
 * So a PUT, a one-click unsubscribe and an event from a preference centre cannot disagree.
 */
export const consentRoutes: FastifyPluginAsyncZod<{ deps: ApiDeps }> = async (app, { deps }) => {
  const publish = (event: Record<string, unknown>) => produceEvent(deps, app.log, event, "the consent change");
  const consentEvent = (customerId: string, data: z.infer<typeof ConsentBody>, id: string = randomUUID()) => ({
    specversion: "1.0",
    id,
    source: "customer-lifecycle-api",
    type: "customer.consent.updated",
    subject: customerId,
    time: new Date().toISOString(),
    data,
  });

  app.put(
    "/v1/customers/:id/consent",
    {
      config: { scope: "ingest" },
      schema: {
        tags: ["customers"],
        summary: "Record a customer's consent on a channel",
        description:
          "`granted` or `withdrawn` marketing consent, or `suppressed` (nothing at all to this address: a hard bounce or a complaint, as `source`). Produced as a `customer.consent.updated` event and applied by ingest in order with the customer's other events; answered once Kafka has it.",
        security: [{ apiKey: [] }],
        params: CustomerParams,
        body: ConsentBody,
        response: { 202: EventAccepted, ...KEYED_ERRORS, 503: ProblemResponse.describe("Kafka did not confirm: retry") },
      },
    },
    async (request, reply) => {
      const eventId = await publish(consentEvent(request.params.id, request.body));
      const { channel, status, source } = request.body;
      await createAuditLogRepo(deps.pool).record({ actor: `key:${request.apiKey?.id ?? "?"}`, action: "consent.changed", subject: request.params.id, details: { channel, status, source, eventId } });
      return reply.status(202).send({ eventId, status: "accepted" as const });
    },
  );

  // RFC 8058 one-click: mail clients POST `List-Unsubscribe=One-Click` as a form.
  app.addContentTypeParser("application/x-www-form-urlencoded", { parseAs: "string" }, (_request, body, done) => done(null, body));

  const verified = (token: string) => {
    if (!deps.unsubscribeSecret) throw new HttpProblem(404, "one-click unsubscribe is not configured (UNSUBSCRIBE_SECRET)");
    const result = verifyUnsubscribeToken(token, deps.unsubscribeSecret, new Date());
    if (!result.ok) throw new HttpProblem(400, `this unsubscribe link cannot be used: ${result.why}`);
    return result.claims;
  };

  app.post(
    "/v1/unsubscribe",
    {
      schema: {
        tags: ["customers"],
        summary: "One-click unsubscribe (RFC 8058), from the List-Unsubscribe header of a marketing e-mail",
        description: "No API key: the signed, expiring token in the URL says who and which channel. Withdraws marketing consent on that channel; repeating it changes nothing.",
        querystring: TokenQuery,
        response: { 200: z.object({ status: z.literal("unsubscribed"), channel: ConsentChannel }), 400: ProblemResponse, 404: ProblemResponse, 503: ProblemResponse },
      },
    },
    async (request) => {
      const claims = verified(request.query.token);
      // One id per link: a client that posts twice records one event.
      const id = `unsubscribe-${claims.channel}-${claims.customerId}-${claims.expiresAt.getTime()}`;
      await publish(consentEvent(claims.customerId, { channel: claims.channel, status: "withdrawn", source: "one-click-unsubscribe" }, id));
      return { status: "unsubscribed" as const, channel: claims.channel };
    },
  );

  // The link in the mail's body: a page that asks, since link scanners follow every GET.
  app.get(
    "/v1/unsubscribe",
    { schema: { tags: ["customers"], summary: "The unsubscribe page a marketing e-mail links to (confirms with a POST)", querystring: TokenQuery } },
    async (request, reply) => {
      const claims = verified(request.query.token);
      const action = `?token=${encodeURIComponent(request.query.token)}`;
      return reply
        .type("text/html; charset=utf-8")
        .send(
          `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Unsubscribe</title></head><body>` +
            `<h1>Unsubscribe</h1><p>Stop marketing messages by ${claims.channel === "email" ? "e-mail" : "our partners"}? Service messages about your orders and tickets still reach you.</p>` +
            `<form method="post" action="${action}"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">Unsubscribe</button></form></body></html>`,
        );
    },
  );
};
