import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import helmet from "@fastify/helmet";
import rateLimit from "@fastify/rate-limit";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import { jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from "fastify-type-provider-zod";
import type { Logger } from "@lifecycle/logging";
import { authorize, installAuthentication } from "./auth/authenticate.js";
import { DEFAULT_LIMITS, type ApiDeps } from "./deps.js";
import { dashboardRoutes } from "./dashboard/dashboard.routes.js";
import { answerClientError, answerFrameworkError, HttpProblem, installProblemHandlers } from "./http/problem.js";
import { createReadGate } from "./http/read-gate.js";
import { alertsRoutes } from "./routes/alerts.routes.js";
import { auditRoutes } from "./routes/audit.routes.js";
import { consentRoutes } from "./routes/consent.routes.js";
import { customerMergeRoutes } from "./routes/customer-merge.routes.js";
import { customersRoutes } from "./routes/customers.routes.js";
import { modelsRoutes } from "./routes/models.routes.js";
import { playbookPreviewRoutes } from "./routes/playbook-preview.routes.js";
import { playbookUpliftRoutes } from "./routes/playbook-uplift.routes.js";
import { QUEUE_BOARD_PATH, queueBoardRoutes } from "./routes/queue-board.routes.js";
import { healthRoutes } from "./routes/health.routes.js";

/** The OpenAPI document's description of the API (served at /docs, committed under docs/). */
export const OPENAPI_INFO = {
  title: "Customer lifecycle API",
  version: "1.0.0",
  description: "Stages, CLV, experience measures and at-risk alerts for CRMs and ops teams (CONTRACT.md section 4). Every route but health needs an API key: `Authorization: Bearer <key>`.",
};

/** The one inline style element Swagger UI's bundle inserts (@fastify/swagger-ui 5.2.6). */
const SWAGGER_UI_STYLE_HASH = "'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='";
const DOCS_CHALLENGE = 'Basic realm="customer-lifecycle API docs (password: an API key with the read scope)", charset="UTF-8"';

/**
 * The HTTP API as a fastify instance, from its dependencies: main.ts listens on it, tests call
 * `app.inject`. zod schemas validate every request and response and generate the OpenAPI document.
 */
export async function buildApp(deps: ApiDeps, { logger }: { logger?: Logger } = {}): Promise<FastifyInstance> {
  // Typed as fastify's logger interface so the instance keeps fastify's default logger type.
  const loggerInstance: FastifyBaseLogger | undefined = logger;
  const app = Fastify({
    loggerInstance,
    bodyLimit: deps.bodyLimitBytes,
    // Behind a proxy, the client address (for the limits) is the forwarded one only when configured.
    trustProxy: deps.trustProxy ?? false,
    // Customer ids are up to 128 characters (percent-encoded, longer): let longer ones reach
    // validation and get a 400 naming the parameter rather than the router's bare 414.
    routerOptions: { maxParamLength: 1024 },
    // Errors the router answers before any handler runs: problem details like every other error.
    frameworkErrors: answerFrameworkError,
    // …and errors Node answers before that (an oversized request line: 431).
    clientErrorHandler: answerClientError,
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installProblemHandlers(app);

  // Scripts and styles from our own files only (the dashboard has no inline script or style; it
  // sets styles through the DOM, which CSP allows). Helmet's defaults otherwise, except
  // upgrade-insecure-requests, which would send a plain-HTTP deployment's browsers to https.
  await app.register(helmet, { contentSecurityPolicy: { directives: { "script-src": ["'self'"], "style-src": ["'self'"], "upgrade-insecure-requests": null } } });
  // The limits themselves run in the authentication hook (auth/request-limits.ts), in a fixed order;
  // the plugin gives them its counters, and routes a limit of their own (`config.rateLimit`: /readyz).
  await app.register(rateLimit, {
    global: false,
    keyGenerator: (request) => `ip:${request.ip}`,
    // Thrown by the plugin: the error handler answers it as a problem like every other error.
    errorResponseBuilder: (_request, context) => new HttpProblem(429, `rate limit of ${context.max} requests a minute exceeded; retry in ${Math.ceil(context.ttl / 1000)} s`),
  });
  await app.register(swagger, {
    openapi: {
      openapi: "3.1.0",
      info: OPENAPI_INFO,
      components: { securitySchemes: { apiKey: { type: "http", scheme: "bearer", description: "An API key from `npm run keys -- create`" } } },
    },
    // The queue board's routes are a UI of their own, not part of the API's contract.
    transform: (input) => (input.url.startsWith(QUEUE_BOARD_PATH) ? { schema: { ...input.schema, hide: true }, url: input.url } : jsonSchemaTransform(input)),
  });
  // The API's documentation UI: behind a read key by default (HTTP Basic, so a browser asks), public
  // only when configured, or off. Swagger UI loads its scripts from files, so the strict policy
  // holds there too, save one style element its bundle inserts: allowed by its hash, on /docs only
  // (docs.int.test.ts renders the page in Chromium and fails on any CSP violation, e.g. after an upgrade).
  const docs = deps.docs ?? "key";
  if (docs !== "off") {
    await app.register(swaggerUi, {
      routePrefix: "/docs",
      transformStaticCSP: (header) => header.replace("style-src 'self'", `style-src 'self' ${SWAGGER_UI_STYLE_HASH}`),
      // Callback style (the plugin's hook type): a refused request has its answer sent and goes no further.
      ...(docs === "key" ? { uiHooks: { onRequest: (request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void) => void authorize(request, reply, deps.keys, "read", DOCS_CHALLENGE).then((ok) => ok && done(), done) } } : {}),
    });
  }
  const limits = { ...DEFAULT_LIMITS, ...deps.limits };
  app.decorate("expensiveReads", createReadGate({ atOnce: limits.expensiveReadsAtOnce, waitMs: limits.expensiveReadWaitMs }));
  installAuthentication(app, deps.keys, {
    perAddressPerMinute: limits.perAddressPerMinute,
    authFailuresPerMinute: limits.authFailuresPerMinute,
    perKeyPerMinute: deps.rateLimitPerMinute,
  });

  await app.register(healthRoutes, { deps });
  await app.register(customersRoutes, { deps });
  await app.register(consentRoutes, { deps });
  await app.register(customerMergeRoutes, { deps });
  await app.register(alertsRoutes, { deps });
  await app.register(playbookUpliftRoutes, { deps });
  await app.register(modelsRoutes, { deps });
  await app.register(auditRoutes, { deps });
  await app.register(playbookPreviewRoutes, { deps });
  await app.register(dashboardRoutes, { deps });
  // Its own plugin context: the admin check applies to the board's routes only.
  await app.register(queueBoardRoutes, { deps });
  return app;
}
