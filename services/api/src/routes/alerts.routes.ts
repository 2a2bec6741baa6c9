import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { ApiDeps } from "../deps.js";
import { listAtRisk, type AtRiskRow } from "./alerts-at-risk.query.js";
import { KEYED_ERRORS, Instant, Money } from "../http/schemas.js";
import { alertStreamRoutes } from "./alerts-stream.routes.js";
import { eventsRoutes } from "./events.routes.js";
import { metricsRoutes } from "./metrics.routes.js";

const CursorKey = z.tuple([z.string().regex(/^\d{1,16}\.\d{2}$/), z.string().min(1).max(128)]);

function decodeCursor(text: string): unknown {
  try {
    return JSON.parse(Buffer.from(text, "base64url").toString("utf8"));
  } catch {
    return undefined;
  }
}

/** An opaque cursor: the last item's (value at stake, id), base64url JSON. */
const AtRiskCursor = z
  .string()
  .max(512)
  .transform((text, ctx) => {
    const key = CursorKey.safeParse(decodeCursor(text));
    if (!key.success) {
      ctx.addIssue({ code: "custom", message: "is not a cursor this API issued: pass a page's `nextCursor` back unchanged" });
      return z.NEVER;
    }
    return { valueAtStake: key.data[0], id: key.data[1] };
  });
const encodeCursor = (row: AtRiskRow) => Buffer.from(JSON.stringify([row.value_at_stake, row.customer_id])).toString("base64url");

const LIMIT_MESSAGE = "must be a whole number from 1 to 500";
const AtRiskQuery = z.object({
  limit: z.coerce.number({ error: LIMIT_MESSAGE }).int(LIMIT_MESSAGE).min(1, LIMIT_MESSAGE).max(500, LIMIT_MESSAGE).default(50).describe("Page size. @defaultValue 50"),
  cursor: AtRiskCursor.optional().describe("`nextCursor` of the previous page; absent for the first page"),
});

const AtRiskCustomer = z.object({
  id: z.string(),
  stageSince: Instant.nullable().describe("When the customer became at-risk (event time)"),
  reason: z.string().nullable().describe("Why, machine-readable: e.g. `inactive-90d`, `p-alive-below-0.5`, `detractor-score`, `ticket-unanswered`"),
  valueAtStake: Money,
  basis: z.enum(["predicted", "historical"]).describe("Which formula gave `valueAtStake` (see the route description)"),
  pAlive: z.number().min(0).max(1).nullable(),
  predictedClv: Money.nullable(),
  historicalClv: Money,
  healthScore: z.number().int().min(0).max(100).nullable(),
  lastPurchaseAt: Instant.nullable(),
});

const AtRiskPage = z.object({
  items: z.array(AtRiskCustomer),
  nextCursor: z.string().nullable().describe("Pass as `cursor` for the next page; null on the last page"),
});

const toItem = (r: AtRiskRow): z.infer<typeof AtRiskCustomer> => ({
  id: r.customer_id,
  stageSince: r.stage_since?.toISOString() ?? null,
  reason: r.stage_reason,
  valueAtStake: r.value_at_stake,
  basis: r.basis,
  pAlive: r.p_alive,
  predictedClv: r.predicted_clv,
  historicalClv: r.historical_clv,
  healthScore: r.health_score,
  lastPurchaseAt: r.last_purchase_at?.toISOString() ?? null,
});

const AT_RISK_DESCRIPTION = `At-risk customers, largest value at stake first (ties by id), with stable cursor paging: \
a cursor is the position after the last item, so pages never repeat or skip a customer whose value did not change \
in between (a customer re-evaluated between pages may move).

Value at stake, in the base currency:
- \`basis: "predicted"\`: predicted CLV × (1 − P(alive)), for customers with a prediction who bought on two or more \
days. (BG/NBD gives a one-time buyer P(alive) = 1 by construction, which would make its value at stake 0.)
- \`basis: "historical"\`, everyone else: historical CLV per year of tenure (first purchase to the last evaluation, at \
least one year), over the prediction horizon, × (1 − health score / 100); no health score counts as 0.`;

/**
 * At-risk alerts: the list by value at stake and the live stream; registers the metrics and
 * events routes too (the issue's routes, one registration in app.ts).
 */
export const alertsRoutes: FastifyPluginAsyncZod<{ deps: ApiDeps }> = async (app, { deps }) => {
  app.get(
    "/v1/alerts/at-risk",
    {
      config: { scope: "read" },
      schema: {
        tags: ["alerts"],
        summary: "At-risk customers, largest value at stake first",
        description: AT_RISK_DESCRIPTION,
        security: [{ apiKey: [] }],
        querystring: AtRiskQuery,
        response: { 200: AtRiskPage, ...KEYED_ERRORS },
      },
    },
    async (request) => {
      const { limit, cursor } = request.query;
      const page = await listAtRisk(deps.pool, { limit, after: cursor, horizonDays: deps.settings.clv.horizonDays });
      const last = page.rows.at(-1);
      return { items: page.rows.map(toItem), nextCursor: page.more && last ? encodeCursor(last) : null };
    },
  );

  await app.register(alertStreamRoutes, { deps });
  await app.register(metricsRoutes, { deps });
  await app.register(eventsRoutes, { deps });
};
