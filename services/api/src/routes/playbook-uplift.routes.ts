import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { uplift, type Confidence } from "@lifecycle/domain";
import { PLAYBOOKS } from "@lifecycle/events";
import type { ApiDeps } from "../deps.js";
import { HttpProblem } from "../http/problem.js";
import { checkPeriod } from "./period-limit.js";
import { DAY_MS, Instant, InstantParam, KEYED_ERRORS } from "../http/schemas.js";
import { countUplift, type GroupCounts } from "./playbook-uplift.query.js";

const DEFAULT_DAYS = 30;
const MAX_DAYS = 365;
const DEFAULT_PERIOD_DAYS = 90;
const DAYS_MESSAGE = `must be a whole number of days from 1 to ${MAX_DAYS}`;
const CONFIDENCE_MESSAGE = "must be 0.9, 0.95 or 0.99";

const UpliftQuery = z
  .object({
    days: z.coerce
      .number({ error: DAYS_MESSAGE })
      .int(DAYS_MESSAGE)
      .min(1, DAYS_MESSAGE)
      .max(MAX_DAYS, DAYS_MESSAGE)
      .default(DEFAULT_DAYS)
      .describe(`A customer converts with a purchase within this many days after the follow-up was due. @defaultValue ${DEFAULT_DAYS}`),
    from: InstantParam.optional().describe(`Follow-ups due from here, inclusive. @defaultValue ${DEFAULT_PERIOD_DAYS} days before \`to\``),
    to: InstantParam.optional().describe("Follow-ups due before here, exclusive. @defaultValue the engine's now (the event-time watermark when it runs on one)"),
    confidence: z.coerce
      .number({ error: CONFIDENCE_MESSAGE })
      .pipe(z.union([z.literal(0.9), z.literal(0.95), z.literal(0.99)], { error: CONFIDENCE_MESSAGE }))
      .default(0.95)
      .describe("Confidence level of the interval. @defaultValue 0.95"),
  })
  .refine((q) => q.from === undefined || q.to === undefined || Date.parse(q.from) < Date.parse(q.to), { message: "`from` must be before `to` (the period is [from, to))", path: ["from"] });

const Count = z.number().int().min(0);
const Group = z.object({
  customers: Count.describe("Customers whose window has ended: the rate's denominator"),
  converted: Count.describe("Of those, customers who bought within the window"),
  rate: z.number().nullable().describe("converted ÷ customers; null when no customer"),
  pending: Count.describe("Customers whose window is still open: not in the rate yet"),
});

const PlaybookUplift = z.object({
  playbook: z.enum(PLAYBOOKS),
  holdoutShare: z.number().describe("The control share configured now (0: no holdout)"),
  treated: Group.describe("Customers who were sent the follow-up"),
  heldOut: Group.describe("Customers in the control group: recorded, never sent"),
  uplift: z.number().nullable().describe("Treated rate − held-out rate (0.05 = five points); null while a group is empty"),
  low: z.number().nullable().describe("Lower end of the interval for the uplift (Newcombe's hybrid score interval)"),
  high: z.number().nullable().describe("Upper end of the interval"),
  confidence: z.number(),
});

export const UpliftReport = z.object({
  from: Instant,
  to: Instant,
  days: z.number().int(),
  now: Instant.describe("The engine's clock: only customers whose window ended by then are in the rates"),
  playbooks: z.array(PlaybookUplift).describe("Every playbook, in catalog order"),
});
export type UpliftReport = z.infer<typeof UpliftReport>;

const DESCRIPTION = `Whether follow-ups work: per playbook, the share of customers who bought within \`days\` after \
a follow-up was due, for customers who were sent it (treated) against customers in the playbook's control group \
(held out: recorded, never sent; \`holdoutShare\` in PLAYBOOKS), with the difference and its confidence interval. \
Each customer counts once per playbook, from their earliest follow-up due in [from, to); skipped follow-ups count in \
neither group. Customers whose window has not ended at the engine's now are left out of the rates (\`pending\`).`;

const rate = (g: GroupCounts) => (g.customers ? g.converted / g.customers : null);
const group = (g: GroupCounts) => ({ customers: g.customers, converted: g.converted, rate: rate(g), pending: g.pending });

/** GET /v1/playbooks/uplift: treated against held-out purchase rates per playbook. */
export const playbookUpliftRoutes: FastifyPluginAsyncZod<{ deps: ApiDeps }> = async (app, { deps }) => {
  app.get(
    // A static segment: it wins over a `/v1/playbooks/:name/...` parameter route in fastify's router.
    "/v1/playbooks/uplift",
    {
      config: { scope: "read" },
      schema: {
        tags: ["playbooks"],
        summary: "Holdout uplift per playbook: purchase rate of treated against held-out customers, with a confidence interval",
        description: DESCRIPTION,
        security: [{ apiKey: [] }],
        querystring: UpliftQuery,
        response: { 200: UpliftReport, ...KEYED_ERRORS },
      },
    },
    async (request) => {
      const { days, confidence } = request.query;
      // The engine's now: on a watermark clock (a replay of history) wall time would count every window as ended.
      const now = (await deps.clock?.read(deps.pool)) ?? new Date();
      const to = request.query.to === undefined ? now : new Date(request.query.to);
      const from = request.query.from === undefined ? new Date(to.getTime() - DEFAULT_PERIOD_DAYS * DAY_MS) : new Date(request.query.from);
      if (from.getTime() >= to.getTime()) throw new HttpProblem(400, `\`from\` must be before \`to\` (${to.toISOString()}): the period is [from, to)`);
      checkPeriod(from.getTime(), to.getTime(), deps);
      const counts = await app.expensiveReads.run(() => countUplift(deps.pool, { from, to, days, now }));
      return {
        from: from.toISOString(),
        to: to.toISOString(),
        days,
        now: now.toISOString(),
        playbooks: PLAYBOOKS.map((playbook) => report(playbook, counts.get(playbook), deps.settings.playbooks[playbook].holdoutShare, confidence)),
      };
    },
  );
};

function report(playbook: (typeof PLAYBOOKS)[number], counts: { treated: GroupCounts; heldOut: GroupCounts } | undefined, holdoutShare: number, confidence: Confidence) {
  const treated = counts?.treated ?? { customers: 0, converted: 0, pending: 0 };
  const heldOut = counts?.heldOut ?? { customers: 0, converted: 0, pending: 0 };
  const u = uplift(treated, heldOut, confidence);
  const measurable = treated.customers > 0 && heldOut.customers > 0;
  return {
    playbook,
    holdoutShare,
    treated: group(treated),
    heldOut: group(heldOut),
    uplift: measurable ? u.uplift : null,
    low: u.low ?? null,
    high: u.high ?? null,
    confidence,
  };
}
