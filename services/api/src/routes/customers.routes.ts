import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { createAuditLogRepo, createJobOutcomeRepo } from "@lifecycle/db";
import { channelOfQueue, followUpJobParts } from "@lifecycle/events";
import type { ApiDeps } from "../deps.js";
import { HttpProblem } from "../http/problem.js";
import { Instant, KEYED_ERRORS, ProblemResponse } from "../http/schemas.js";
import { erasePersonalData } from "./customers.erasure.js";
import { customerPage, findAlias, findCustomer } from "./customers.read.js";
import { CustomerDetail, CustomerPage, CustomerParams, ErasureResult, ListQuery, MergedCustomer, TimelinePage, TimelineQuery } from "./customers.schemas.js";
import { timelinePage } from "./customers.timeline.js";
import { CUSTOMER_EXISTS } from "./customers.sql.js";

const security = [{ apiKey: [] }];
const FollowUpOutcomes = z.object({
  items: z.array(
    z.object({
      jobId: z.string().describe("The BullMQ job id: fu|<playbook>|<customer>|<trigger>"),
      playbook: z.string(),
      channel: z.string(),
      status: z.enum(["sent", "skipped", "failed", "held-out"]),
      detail: z.string().nullable().describe("What was sent, why it was skipped, or the last error"),
      attempts: z.number().int(),
      finishedAt: Instant,
    }),
  ),
});
const problems = KEYED_ERRORS;
const notFound = (id: string) => new HttpProblem(404, `no customer with id ${JSON.stringify(id)}`);
const moved = MergedCustomer.describe("The id was merged into (or linked to) another customer, `mergedInto`: `Location` is this request for that customer");
const NOT_FOUND = ProblemResponse.describe("No such customer");

/**
 * The answer for an id without a customer row: when it resolves to another customer (an alias,
 * identity resolution), where the same request for that customer goes (`Location`, the query kept)
 * and the pointer; otherwise a 404.
 */
async function redirectForAlias(deps: ApiDeps, { id, url, rest }: { id: string; url: string; rest: string }) {
  const alias = await findAlias(deps.pool, id);
  if (!alias) throw notFound(id);
  const query = url.includes("?") ? url.slice(url.indexOf("?")) : "";
  return { location: `/v1/customers/${encodeURIComponent(alias.mergedInto)}${rest}${query}`, body: alias };
}

const LIST_DESCRIPTION = `A CRM's incremental sync: customers in (updatedAt, id) order, paged by an opaque cursor.

- \`updatedAt\` changes when a customer's facts (purchases, refunds, tickets, surveys) or stage change; a refreshed prediction alone does not move it.
- A customer updated while you page moves to the end of the order and is served again there: no customer is skipped, and one may be seen twice (keep the latest).
- Changes still being written when a page is read (open database transactions) are held back until they commit, so a later page cannot miss them.
- \`nextCursor\` is null when the page reached the end. To sync again later, pass the last item's \`updatedAt\` as \`updatedSince\` (inclusive: the boundary rows come again).
- Keep \`stage\` and \`updatedSince\` the same on every page of one pass.`;

/** The customer routes (CONTRACT.md section 4): one customer, its timeline, the CRM sync feed, erasure. */
export const customersRoutes: FastifyPluginAsyncZod<{ deps: ApiDeps }> = async (app, { deps }) => {
  app.get(
    "/v1/customers/:id",
    {
      config: { scope: "read" },
      schema: {
        tags: ["customers"],
        summary: "A customer's stage, CLV, purchases, latest survey scores and health",
        description: "An id merged into another customer answers 308 Permanent Redirect to that customer, with a pointer (`mergedInto`).",
        security,
        params: CustomerParams,
        response: { 200: CustomerDetail, 308: moved, ...problems, 404: NOT_FOUND },
      },
    },
    async (request, reply) => {
      const customer = await findCustomer(deps.pool, request.params.id);
      if (customer) return customer;
      const { location, body } = await redirectForAlias(deps, { id: request.params.id, url: request.url, rest: "" });
      return reply.status(308).header("location", location).send(body);
    },
  );

  app.get(
    "/v1/customers/:id/follow-ups",
    {
      config: { scope: "read" },
      schema: {
        tags: ["customers"],
        summary: "The customer's follow-ups and how each ended: sent, skipped (and why) or failed (and with what)",
        description:
          "Outcomes of finished follow-up jobs, newest first (at most 200). Jobs still waiting are in the queues (/admin/queues). An id merged into another customer answers 308 to that customer's follow-ups.",
        security,
        params: CustomerParams,
        response: { 200: FollowUpOutcomes, 308: moved, ...problems, 404: NOT_FOUND },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      if ((await deps.pool.query(CUSTOMER_EXISTS, [id])).rowCount === 0) {
        const { location, body } = await redirectForAlias(deps, { id, url: request.url, rest: "/follow-ups" });
        return reply.status(308).header("location", location).send(body);
      }
      const outcomes = await createJobOutcomeRepo(deps.pool).listForCustomer(id);
      return {
        items: outcomes
          .slice(-200)
          .reverse()
          .map((o) => ({ jobId: o.jobId, playbook: followUpJobParts(o.jobId)?.playbook ?? o.jobName, channel: channelOfQueue(o.queue), status: o.status, detail: o.detail, attempts: o.attempts, finishedAt: o.finishedAt.toISOString() })),
      };
    },
  );

  app.get(
    "/v1/customers/:id/timeline",
    {
      config: { scope: "read" },
      schema: {
        tags: ["customers"],
        summary: "A customer's stage changes and events, newest first",
        description:
          "Event data is summarised without personal data. Page with `before` = the previous page's `nextCursor`. The events include those sent under the ids merged into the customer. An id merged into another customer answers 308 to that customer's timeline (the query kept).",
        security,
        params: CustomerParams,
        querystring: TimelineQuery,
        response: { 200: TimelinePage, 308: moved, ...problems, 404: NOT_FOUND },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      // An unknown customer is a 404, not an empty timeline: every event's subject resolves to a row.
      if ((await deps.pool.query(CUSTOMER_EXISTS, [id])).rowCount === 0) {
        const { location, body } = await redirectForAlias(deps, { id, url: request.url, rest: "/timeline" });
        return reply.status(308).header("location", location).send(body);
      }
      return timelinePage(deps.pool, { customerId: id, before: request.query.before, limit: request.query.limit });
    },
  );

  app.get(
    "/v1/customers",
    {
      config: { scope: "read" },
      schema: {
        tags: ["customers"],
        summary: "Customers changed since a point, for a CRM's incremental sync",
        description: LIST_DESCRIPTION,
        security,
        querystring: ListQuery,
        response: { 200: CustomerPage, ...problems },
      },
    },
    async (request) => customerPage(deps.pool, request.query),
  );

  app.delete(
    "/v1/customers/:id/personal-data",
    {
      config: { scope: "admin" },
      schema: {
        tags: ["customers"],
        summary: "Erase a customer's personal data, keeping anonymous aggregates",
        description:
          "Clears e-mail, name, birthday, referrer and cancel reason from the profile and the stored events (with survey comments, cancel reasons and referral codes), removes the customer's follow-up jobs from the queues (a running one is scrubbed, and nothing is sent to an erased customer), gives up follow-ups not yet run, and publishes `lifecycle.customer.erased` on `lifecycle-stage-changed` so CRMs erase their copy. Keeps the customer id (the CRM's key), orders, amounts, tickets, scores, stages and CLV. The customer's other ids (merged customers, external ids such as `email:…`) are personal data too: they are removed from the stored events and merge announcements and stop resolving to the customer (an event sent under one later makes a new customer). Given an id merged into another customer, erases that customer and answers for it. Idempotent: a repeat answers 200 with zero counts (and announces the erasure again). Every call is recorded with the API key that made it.",
        security,
        params: CustomerParams,
        response: { 200: ErasureResult, ...problems, 404: NOT_FOUND },
      },
    },
    async (request) => {
      const apiKeyId = request.apiKey?.id;
      // The scope check ran before the handler: a missing key here is a wiring fault.
      if (apiKeyId === undefined) throw new Error("erasure reached without an authenticated API key");
      const outcome = await erasePersonalData({ pool: deps.pool, queues: deps.queues }, { customerId: request.params.id, apiKeyId });
      switch (outcome.type) {
        case "CustomerNotFound":
          throw notFound(request.params.id);
        case "Erased": {
          // The customer's id, not the one asked for: that may be an alias (an e-mail address), now erased.
          const { customerId, erased } = outcome.result;
          request.log.info({ customerId, erased, apiKeyId }, "personal data erased");
          await createAuditLogRepo(deps.pool).record({ actor: `key:${apiKeyId}`, action: "customer.erased", subject: customerId, details: { erased } });
          return outcome.result;
        }
      }
    },
  );
};
