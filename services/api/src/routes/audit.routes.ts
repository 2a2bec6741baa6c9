import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { AUDIT_ACTIONS, createAuditLogRepo } from "@lifecycle/db";
import type { ApiDeps } from "../deps.js";
import { KEYED_ERRORS } from "../http/schemas.js";

const AuditQuery = z.object({
  action: z.enum(AUDIT_ACTIONS).optional().describe("Only this action"),
  before: z.coerce.number().int().min(1).optional().describe("The `nextBefore` of the previous page"),
  limit: z.coerce.number().int().min(1).max(500).default(100).describe("@defaultValue 100"),
});

const AuditPage = z.object({
  entries: z.array(
    z.object({
      id: z.number().int(),
      at: z.string().describe("RFC 3339"),
      actor: z.string().describe("`key:<id>` (an API key) or `cli:<user>` (npm run keys)"),
      action: z.enum(AUDIT_ACTIONS),
      subject: z.string().nullable().describe("The key, customer or job acted on"),
      details: z.record(z.string(), z.unknown()),
    }),
  ),
  nextBefore: z.number().int().nullable().describe("Pass as `before` for older entries; null at the end"),
});

/** GET /v1/audit: the admin actions, newest first (keys made, rotated or revoked; erasures; consent changes; queue board actions). */
export const auditRoutes: FastifyPluginAsyncZod<{ deps: ApiDeps }> = async (app, { deps }) => {
  const audit = createAuditLogRepo(deps.pool);
  app.get(
    "/v1/audit",
    {
      config: { scope: "admin" },
      schema: { tags: ["admin"], summary: "The audit log of admin actions, newest first", security: [{ apiKey: [] }], querystring: AuditQuery, response: { 200: AuditPage, ...KEYED_ERRORS } },
    },
    async (request) => {
      const { action, before, limit } = request.query;
      const entries = await audit.list({ action, before, limit });
      return {
        entries: entries.map((e) => ({ id: e.id, at: e.at.toISOString(), actor: e.actor, action: e.action, subject: e.subject ?? null, details: e.details ?? {} })),
        nextBefore: entries.length === limit ? (entries.at(-1)?.id ?? null) : null,
      };
    },
  );
};
