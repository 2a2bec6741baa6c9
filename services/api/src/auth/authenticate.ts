import type { FastifyInstance, FastifyRequest } from "fastify";
import type { ApiKeyRepo, ApiScope } from "@lifecycle/db";
import { problem } from "../http/problem.js";

declare module "fastify" {
  interface FastifyContextConfig {
    /** The scope a route needs; routes without one (health) are open. */
    scope?: ApiScope;
  }
  interface FastifyRequest {
    apiKey?: { id: string; scopes: ApiScope[] };
  }
}

/** The key a request presents: `Authorization: Bearer <key>` or `X-Api-Key: <key>`. */
export function presentedKey(request: FastifyRequest): string | undefined {
  const auth = request.headers.authorization;
  if (auth?.toLowerCase().startsWith("bearer ")) return auth.slice(7).trim();
  const header = request.headers["x-api-key"];
  return typeof header === "string" ? header.trim() : undefined;
}

/**
 * API-key authentication with scopes: no or unknown key → 401 (with `WWW-Authenticate`), a valid
 * key without the route's scope → 403. `admin` includes every scope.
 */
export function installAuthentication(app: FastifyInstance, keys: ApiKeyRepo): void {
  app.addHook("onRequest", async (request, reply) => {
    const scope = request.routeOptions.config.scope;
    if (!scope) return;
    const key = presentedKey(request);
    const found = key ? await keys.verify(key) : undefined;
    if (!found) {
      return reply
        .status(401)
        .header("www-authenticate", 'Bearer realm="customer-lifecycle"')
        .type("application/problem+json")
        .send({ ...problem(401, key ? "the API key is not valid (unknown or revoked)" : "an API key is required: Authorization: Bearer <key>"), instance: request.url });
    }
    if (!found.scopes.includes(scope) && !found.scopes.includes("admin")) {
      return reply.status(403).type("application/problem+json").send({ ...problem(403, `this API key lacks the '${scope}' scope`), instance: request.url });
    }
    request.apiKey = found;
    void keys.touch(found.id).catch(() => undefined);
  });
}
