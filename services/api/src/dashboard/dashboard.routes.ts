import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, extname, join } from "node:path";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { ApiDeps } from "../deps.js";
import { HttpProblem } from "../http/problem.js";
import { dashboardDataRoutes } from "../routes/dashboard-data.routes.js";
import { renderPage, type PageName } from "./pages.js";

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

const TYPES: Record<string, string> = { ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8" };

const asset = (body: Buffer | string, type: string): Asset => {
  const bytes = Buffer.from(body);
  return { body: bytes, type, etag: `"${createHash("sha256").update(bytes).digest("base64url").slice(0, 27)}"` };
};

/**
 * Everything under /dashboard/assets, read once at start-up: our scripts and stylesheet, and
 * Chart.js's UMD build from node_modules (served here: the CSP allows scripts from 'self' only,
 * and there is no CDN to reach). A fixed map, so no request can name any other file.
 */
function loadAssets(): Map<string, Asset> {
  // Through the package, not this file's location: the production bundle inlines this code in dist/.
  const dir = join(dirname(createRequire(import.meta.url).resolve("@lifecycle/api/package.json")), "src/dashboard/assets");
  const assets = new Map<string, Asset>();
  for (const name of readdirSync(dir)) {
    const type = TYPES[extname(name)];
    if (type) assets.set(name, asset(readFileSync(join(dir, name)), type));
  }
  const chartJs = join(dirname(createRequire(import.meta.url).resolve("chart.js")), "chart.umd.min.js");
  assets.set("chart.umd.min.js", asset(readFileSync(chartJs), TYPES[".js"] ?? "text/javascript"));
  return assets;
}

/** Answers with `a`, or 304 when the browser's copy is current (assets are revalidated on every use). */
function send(request: FastifyRequest, reply: FastifyReply, a: Asset) {
  void reply.header("cache-control", "no-cache").header("etag", a.etag);
  if (request.headers["if-none-match"] === a.etag) return reply.status(304).send();
  return reply.type(a.type).send(a.body);
}

/**
 * The ops dashboard: HTML shells under /dashboard (no key needed: they hold no data), their
 * scripts and styles under /dashboard/assets, and the aggregates they read that the other routes
 * lack (`dashboardDataRoutes`, read scope). Pages are left out of the OpenAPI document.
 */
export const dashboardRoutes: FastifyPluginAsyncZod<{ deps: ApiDeps }> = async (app, { deps }) => {
  await app.register(dashboardDataRoutes, { deps });

  const assets = loadAssets();
  const pages = new Map<PageName, Asset>((["overview", "at-risk", "customers", "customer", "models"] as const).map((p) => [p, asset(renderPage(p), "text/html; charset=utf-8")]));
  const page = (name: PageName) => async (request: FastifyRequest, reply: FastifyReply) => {
    const shell = pages.get(name);
    if (!shell) throw new Error(`no page ${name}`);
    return send(request, reply, shell);
  };
  const hide = { hide: true };

  app.get("/dashboard", { schema: hide }, page("overview"));
  app.get("/dashboard/", { schema: hide }, async (_request, reply) => reply.redirect("/dashboard"));
  app.get("/dashboard/at-risk", { schema: hide }, page("at-risk"));
  app.get("/dashboard/customers", { schema: hide }, page("customers"));
  app.get("/dashboard/models", { schema: hide }, page("models"));
  app.get("/dashboard/customers/:id", { schema: { ...hide, params: z.object({ id: z.string().min(1).max(128) }) } }, page("customer"));
  app.get("/dashboard/assets/:file", { schema: { ...hide, params: z.object({ file: z.string().max(64) }) } }, async (request, reply) => {
    const found = assets.get(request.params.file);
    if (!found) throw new HttpProblem(404, `no dashboard asset ${request.params.file}`);
    return send(request, reply, found);
  });
};
