import { randomUUID } from "node:crypto";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { createAuditLogRepo, createIdentityRepo } from "@lifecycle/db";
import { CustomerMergedData, MAX_LINKED_IDS } from "@lifecycle/events";
import type { ApiDeps } from "../deps.js";
import { problem, sendProblem } from "../http/problem.js";
import { KEYED_ERRORS, ProblemResponse } from "../http/schemas.js";
import { CustomerParams } from "./customers.schemas.js";
import { EventAccepted, produceEvent } from "./events.routes.js";

// The event's own fields, so the body accepts exactly what the event carries (CONTRACT.md section 1).
const MergeBody = z.strictObject({
  mergedIds: CustomerMergedData.shape.mergedIds.describe(
    `The customers to merge into this one: 1–${MAX_LINKED_IDS} distinct ids, not this one's. Their history, value and follow-ups move here, and their ids answer with a pointer here (308)`,
  ),
  reason: CustomerMergedData.shape.reason.describe("Why, for the audit trail, e.g. `duplicate-profile`"),
});

const MERGE_DESCRIPTION = `Produced as a \`customer.merged\` event to the customer topic, keyed by the survivor, and applied by \
ingest like one from any other producer; answered once Kafka has it. The survivor is the customer \`:id\` resolves to now \
(\`:id\` itself, or the customer it was merged into): merging into an alias merges into its customer. Ingest moves the merged \
customers' records to the survivor, and from then on \`GET /v1/customers/{mergedId}\` answers 308 with a pointer to it. Of a set \
of linked ids, the survivor of the latest merge is the customer. A merge is not undone: check the ids first.`;

const MergeAccepted = EventAccepted.extend({ customerId: z.string().describe("The survivor the event names: `:id`, or the customer it resolves to") });

/** POST /v1/customers/:id/merge: a merge goes the way of every other fact, as an event through Kafka (like consent). */
export const customerMergeRoutes: FastifyPluginAsyncZod<{ deps: ApiDeps }> = async (app, { deps }) => {
  app.post(
    "/v1/customers/:id/merge",
    {
      // Ingest's scope, as for producing any event (admin keys have every scope).
      config: { scope: "ingest" },
      schema: {
        tags: ["customers"],
        summary: "Merge duplicate customers into this one",
        description: MERGE_DESCRIPTION,
        security: [{ apiKey: [] }],
        params: CustomerParams,
        body: MergeBody,
        response: { 202: MergeAccepted, ...KEYED_ERRORS, 503: ProblemResponse.describe("Kafka did not confirm: retry") },
      },
    },
    async (request, reply) => {
      const asked = request.params.id;
      const { mergedIds, reason } = request.body;
      const id = (await createIdentityRepo(deps.pool).resolve([asked])).get(asked) ?? asked;
      // The event schema refuses the survivor in mergedIds too, but this answer names the field like a schema error does.
      if (mergedIds.includes(asked) || mergedIds.includes(id)) {
        const survivor = id === asked ? `the path's ${JSON.stringify(id)}` : `the path's ${JSON.stringify(asked)}, or ${JSON.stringify(id)}, which it was merged into`;
        const error = { path: "body.mergedIds", message: `must not contain the surviving customer's own id (${survivor})` };
        return sendProblem(reply, request, problem(400, `${error.path}: ${error.message}`, { errors: [error] }));
      }
      const event = {
        specversion: "1.0",
        id: randomUUID(),
        source: "customer-lifecycle-api",
        type: "customer.merged",
        subject: id,
        time: new Date().toISOString(),
        data: { mergedIds, ...(reason === undefined ? {} : { reason }) },
      };
      const eventId = await produceEvent(deps, request.log, event, "the merge");
      request.log.info({ customerId: id, merged: mergedIds.length, eventId }, "customer merge produced");
      // The merged ids may be e-mail addresses: the audit trail counts them and keeps the event id, which finds them while they are not erased.
      await createAuditLogRepo(deps.pool).record({ actor: `key:${request.apiKey?.id ?? "?"}`, action: "customer.merged", subject: id, details: { eventId, merged: mergedIds.length, ...(reason === undefined ? {} : { reason }) } });
      return reply.status(202).send({ eventId, status: "accepted" as const, customerId: id });
    },
  );
};
