import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { computeMeasures, MeasuresQueryError, type MeasuresReport } from "@lifecycle/engine";
import type { ApiDeps } from "../deps.js";
import { HttpProblem } from "../http/problem.js";
import { checkPeriod } from "./period-limit.js";
import { DAY_MS, Instant, InstantParam, KEYED_ERRORS, Money } from "../http/schemas.js";

const DEFAULT_PERIOD_DAYS = 30;

const MetricsQuery = z
  .object({
    from: InstantParam.optional().describe(`Start of the period, inclusive. @defaultValue ${DEFAULT_PERIOD_DAYS} days before \`to\``),
    to: InstantParam.optional().describe("End of the period, exclusive. @defaultValue now"),
    groupBy: z
      .enum(["stage", "channel", "none"], { error: "must be one of stage, channel, none" })
      .default("none")
      .describe("Segments: the customer's current stage or acquisition channel. @defaultValue none"),
  })
  .transform(({ from, to, groupBy }) => {
    const end = to === undefined ? new Date() : new Date(to);
    return { from: from === undefined ? new Date(end.getTime() - DEFAULT_PERIOD_DAYS * DAY_MS) : new Date(from), to: end, groupBy };
  })
  .refine((q) => q.from.getTime() < q.to.getTime(), { message: "`from` must be before `to` (the period is [from, to))", path: ["from"] });

const Count = z.number().int().min(0);
const Percent = z.number().nullable();
const Minutes = z.number().nullable();

/** `computeMeasures`'s `Measures`, field for field (definitions in packages/engine/src/measures/measures.ts). */
const MeasuresSchema = z.object({
  nps: z.object({ score: z.number().nullable().describe("% promoters − % detractors"), responses: Count, promoters: Count, passives: Count, detractors: Count }),
  csat: z.object({ percent: Percent.describe("Responses of 4 or 5 ÷ all × 100"), responses: Count, satisfied: Count }),
  ces: z.object({ average: z.number().nullable().describe("Σ scores ÷ responses (1 very easy … 7 very difficult)"), responses: Count }),
  churn: z.object({ ratePercent: Percent.describe("Lost in the period ÷ active at its start × 100"), activeAtStart: Count, lost: Count }),
  referral: z.object({ ratePercent: Percent.describe("New customers by referral ÷ new customers × 100"), newCustomers: Count, referred: Count }),
  firstResponse: z.object({
    medianMinutes: Minutes,
    p90Minutes: Minutes,
    responded: Count,
    withinTargetPercent: Percent.describe("Answered within the response target ÷ judged × 100"),
    withinTarget: Count,
    judged: Count,
  }),
  firstContactResolution: z.object({ ratePercent: Percent, resolved: Count, firstContact: Count }),
  repeatPurchase: z.object({ ratePercent: Percent, customers: Count, repeaters: Count }),
  clv: z.object({ customers: Count, averageHistorical: Money.nullable(), predictedCustomers: Count, averagePredicted: Money.nullable() }),
});

const ChannelEconomicsSchema = z.object({
  channel: z.string().describe("The acquisition channel, `(none)` for customers without one"),
  customers: Count.describe("Customers first seen before `to`, buyers or not"),
  acquiredInPeriod: Count.describe("Of those, first seen in [from, to)"),
  averageClv: Money.describe("Mean historical CLV ((purchases − refunds) × CLV_MARGIN) over the customers"),
  cac: Money.describe("Acquisition spend ÷ customers: the average cost of a customer (no acquisitionCost counts as none)"),
  clvCacRatio: z.number().nullable().describe("Σ CLV ÷ Σ acquisition spend; null when nothing was spent"),
  belowThreeToOne: z.boolean().nullable().describe("CLV:CAC under the 3:1 line; null when nothing was spent"),
});

const MetricsReport = z.object({
  from: Instant,
  to: Instant,
  groupBy: z.enum(["stage", "channel", "none"]),
  responseTargetMinutes: z.number(),
  groups: z.array(
    z.object({
      key: z.string().nullable().describe("null: overall (always first); otherwise the stage or channel, `(none)` for customers without one"),
      measures: MeasuresSchema,
    }),
  ),
  channels: z.array(ChannelEconomicsSchema).nullable().describe("With groupBy=channel: each channel's CLV, CAC and CLV:CAC, flagged under 3:1; null otherwise"),
});

const METRICS_DESCRIPTION = `The experience and value measures of CONTRACT.md section 3 over the period [from, to), \
overall and (with \`groupBy\`) per segment: NPS, CSAT %, CES, churn rate, referral rate, first response (median, p90, \
share within target), first-contact resolution, repeat-purchase rate and average CLV; with \`groupBy=channel\`, \
also \`channels\`: per acquisition channel the average CLV, CAC, CLV:CAC and whether it is under 3:1. Every ratio is null when its \
denominator is 0. The period defaults to the ${DEFAULT_PERIOD_DAYS} days before \`to\`, and \`to\` to now.`;

const toResponse = (r: MeasuresReport, groupBy: "stage" | "channel" | "none"): z.infer<typeof MetricsReport> => ({
  from: r.from.toISOString(),
  to: r.to.toISOString(),
  groupBy,
  responseTargetMinutes: r.responseTargetMinutes,
  groups: r.groups,
  channels: r.channels,
});

/** GET /v1/metrics: `computeMeasures` over HTTP. */
export const metricsRoutes: FastifyPluginAsyncZod<{ deps: ApiDeps }> = async (app, { deps }) => {
  app.get(
    "/v1/metrics",
    {
      config: { scope: "read" },
      schema: {
        tags: ["metrics"],
        summary: "Experience and value measures over a period, overall or per segment",
        description: METRICS_DESCRIPTION,
        security: [{ apiKey: [] }],
        querystring: MetricsQuery,
        response: { 200: MetricsReport, ...KEYED_ERRORS },
      },
    },
    async (request) => {
      const { from, to, groupBy } = request.query;
      checkPeriod(from.getTime(), to.getTime(), deps);
      try {
        const report = await app.expensiveReads.run(() =>
          computeMeasures({
            db: deps.pool,
            from,
            to,
            groupBy: groupBy === "none" ? undefined : groupBy,
            responseTargetMinutes: deps.settings.rules.responseTargetMinutes,
          }),
        );
        return toResponse(report, groupBy);
      } catch (err) {
        // The query is validated above; the engine's own check is a second line.
        if (err instanceof MeasuresQueryError) throw new HttpProblem(400, err.message);
        throw err;
      }
    },
  );
};
