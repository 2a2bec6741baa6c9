import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { ApiKeyRepo, ApiScope } from "@lifecycle/db";
import { problem, sendProblem } from "../http/problem.js";
import { createRequestLimiters, type RequestLimits } from "./request-limits.js";

declare module "fastify" {
  interface FastifyContextConfig {
    /** The scope a route needs; routes without one (health) are open. */
    scope?: ApiScope;
  }
  interface FastifyRequest {
    apiKey?: { id: string; scopes: ApiScope[] };
  }
}

/**
 * The key a request presents: `Authorization: Bearer <key>`, `X-Api-Key: <key>`, or HTTP Basic
 * with the key as the password (for browser pages that cannot add headers, like the queue board).
 */
export function presentedKey(request: FastifyRequest): string | undefined {
  const auth = request.headers.authorization;
  if (auth?.toLowerCase().startsWith("bearer ")) return auth.slice(7).trim();
  if (auth?.toLowerCase().startsWith("basic ")) {
    const decoded = Buffer.from(auth.slice(6).trim(), "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    return colon >= 0 ? decoded.slice(colon + 1) : undefined;
  }
  const header = request.headers["x-api-key"];
  return typeof header === "string" ? header.trim() : undefined;
}

/**
 * Checks the request's key for `scope`: no or unknown key → 401 with the given challenge, a valid
 * key without the scope → 403. `admin` includes every scope. Returns whether to go on.
 */
export async function authorize(request: FastifyRequest, reply: FastifyReply, keys: ApiKeyRepo, scope: ApiScope, challenge = 'Bearer realm="customer-lifecycle"'): Promise<boolean> {
  const key = presentedKey(request);
  const found = key ? await keys.verify(key) : undefined;
  if (!found) {
    await sendProblem(reply, request, problem(401, key ? "the API key is not valid (unknown, revoked or expired)" : "an API key is required: Authorization: Bearer <key>"), { "www-authenticate": challenge });
    return false;
  }
  if (!found.scopes.includes(scope) && !found.scopes.includes("admin")) {
    await sendProblem(reply, request, problem(403, `this API key lacks the '${scope}' scope`));
    return false;
  }
  request.apiKey = found;
  void keys.touch(found.id).catch(() => undefined);
  return true;
}

/**
 * Request limits and API-key authentication with scopes, in one hook so their order is fixed:
 * every request but the liveness probe counts against its address first; a route that declares
 * `config.scope` then needs a key, tried only while the address has failed attempts left (a failure
 * counts against it), and an authenticated request counts against its key's own budget.
 */
export function installAuthentication(app: FastifyInstance, keys: ApiKeyRepo, limits: RequestLimits): void {
  const limiters = createRequestLimiters(app, limits);
  app.addHook("onRequest", async (request, reply) => {
    if (request.routeOptions.url === "/healthz") return;
    if (!(await limiters.address(request, reply))) return;
    const scope = request.routeOptions.config.scope;
    if (!scope) return;
    if (!(await limiters.mayAuthenticate(request, reply))) return;
    if (!(await authorize(request, reply, keys, scope))) {
      if (reply.statusCode === 401) await limiters.failed(request);
      return;
    }
    await limiters.key(request, reply);
  });
}
