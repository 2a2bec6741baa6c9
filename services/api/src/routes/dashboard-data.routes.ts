import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { computeMeasures } from "@lifecycle/engine";
import { LIFECYCLE_STAGES, Stage } from "@lifecycle/events";
import type { ApiDeps } from "../deps.js";
import { HttpProblem } from "../http/problem.js";
import { Instant, InstantParam, KEYED_ERRORS, ProblemResponse } from "../http/schemas.js";
import { withTimeout } from "../http/with-timeout.js";
import { checkPeriod } from "./period-limit.js";

// Aggregates the ops dashboard draws and the customer and alert routes do not give: customers
// per stage, stage flows over a period, weekly experience trends, and follow-up queue health.

const DAY_MS = 86_400_000;
const WEEK_MS = 7 * DAY_MS;
/** A year of weeks at most: each week is one `computeMeasures` (four statements). */
const MAX_TREND_WEEKS = 53;
/** Weeks measured at once, so a long trend does not take every pooled connection. */
const TREND_CONCURRENCY = 4;
const QUEUE_TIMEOUT_MS = 2_000;
const JOB_STATES = ["waiting", "prioritized", "delayed", "active", "waiting-children", "completed", "failed"] as const;

const Period = z
  .object({
    from: InstantParam.describe("Start of the period, inclusive (RFC 3339)"),
    to: InstantParam.describe("End of the period, exclusive (RFC 3339)"),
  })
  .refine((p) => Date.parse(p.from) < Date.parse(p.to), { message: "`from` must be before `to`", path: ["to"] });

export const StageCounts = z.object({
  /** Every stage in lifecycle order, zero when empty. */
  stages: z.array(z.object({ stage: Stage, customers: z.number().int() })),
  unstaged: z.number().int().describe("Customers not evaluated yet (no stage)"),
  total: z.number().int(),
  latestEventAt: Instant.nullable().describe("The latest event time of any customer: where a dashboard's periods can end for replayed history"),
});
export type StageCounts = z.infer<typeof StageCounts>;

export const StageFlows = z.object({
  from: Instant,
  to: Instant,
  flows: z.array(
    z.object({
      from: Stage.nullable().describe("null: the customer's first stage"),
      to: Stage,
      transitions: z.number().int(),
      customers: z.number().int().describe("Distinct customers that made this move"),
    }),
  ),
});
export type StageFlows = z.infer<typeof StageFlows>;

export const WeeklyTrends = z.object({
  from: Instant,
  to: Instant,
  weeks: z.array(
    z.object({
      start: Instant,
      end: Instant.describe("Exclusive; the last week is cut at `to`"),
      nps: z.object({ score: z.number().nullable(), responses: z.number().int() }),
      csat: z.object({ percent: z.number().nullable(), responses: z.number().int() }),
      ces: z.object({ average: z.number().nullable(), responses: z.number().int() }),
      churn: z.object({ ratePercent: z.number().nullable(), activeAtStart: z.number().int(), lost: z.number().int() }),
    }),
  ),
});
export type WeeklyTrends = z.infer<typeof WeeklyTrends>;

const count = z.number().int().min(0);
const JobCounts = z.object({ waiting: count, prioritized: count, delayed: count, active: count, "waiting-children": count, completed: count, failed: count });
export const QueueHealth = z.object({
  queues: z.array(z.object({ name: z.string(), paused: z.boolean(), counts: JobCounts })),
});
export type QueueHealth = z.infer<typeof QueueHealth>;

const { 401: unauthorized, 403: forbidden, 429: limited } = KEYED_ERRORS;
const errors = { 401: unauthorized, 403: forbidden, 429: limited };
const periodErrors = { ...errors, 400: ProblemResponse.describe("Invalid period") };

const read = { scope: "read" } as const;
const security = [{ apiKey: [] }];

/** `GET /v1/dashboard/*` aggregates and `GET /v1/queues`, all with the read scope. */
export const dashboardDataRoutes: FastifyPluginAsyncZod<{ deps: ApiDeps }> = async (app, { deps }) => {
  app.get("/v1/dashboard/stage-counts", { config: read, schema: { tags: ["dashboard"], summary: "Customers per lifecycle stage (the funnel)", security, response: { 200: StageCounts, ...errors } } }, async () => {
    const r = await deps.pool.query<{ stage: string | null; customers: number; latest: Date | null }>(
      "SELECT stage, count(*)::int AS customers, max(last_event_at) AS latest FROM customers GROUP BY stage",
    );
    const count = (stage: string | null) => r.rows.find((row) => row.stage === stage)?.customers ?? 0;
    const latest = Math.max(...r.rows.map((row) => row.latest?.getTime() ?? -Infinity));
    return {
      stages: LIFECYCLE_STAGES.map((stage) => ({ stage, customers: count(stage) })),
      unstaged: count(null),
      total: r.rows.reduce((sum, row) => sum + row.customers, 0),
      latestEventAt: Number.isFinite(latest) ? new Date(latest).toISOString() : null,
    };
  });

  app.get(
    "/v1/dashboard/stage-flows",
    { config: read, schema: { tags: ["dashboard"], summary: "Stage transitions by (from, to) with event time in [from, to)", security, querystring: Period, response: { 200: StageFlows, ...periodErrors } } },
    async (request) => {
      const { from, to } = request.query;
      checkPeriod(Date.parse(from), Date.parse(to), deps);
      const r = await app.expensiveReads.run(() =>
        deps.pool.query<{ from_stage: string | null; to_stage: string; transitions: number; customers: number }>(
          `SELECT from_stage, to_stage, count(*)::int AS transitions, count(DISTINCT customer_id)::int AS customers
             FROM stage_transitions WHERE event_time >= $1 AND event_time < $2
            GROUP BY from_stage, to_stage ORDER BY transitions DESC, from_stage NULLS FIRST, to_stage`,
          [from, to],
        ),
      );
      const flows = r.rows.map((row) => ({ from: Stage.nullable().parse(row.from_stage), to: Stage.parse(row.to_stage), transitions: row.transitions, customers: row.customers }));
      return { from: new Date(from).toISOString(), to: new Date(to).toISOString(), flows };
    },
  );

  app.get(
    "/v1/dashboard/trends",
    {
      config: read,
      schema: {
        tags: ["dashboard"],
        summary: `NPS, CSAT, CES and churn rate per week from \`from\` (at most ${MAX_TREND_WEEKS} weeks), as GET /v1/metrics defines them`,
        security,
        querystring: Period.refine((p) => Date.parse(p.to) - Date.parse(p.from) <= MAX_TREND_WEEKS * WEEK_MS, { message: `at most ${MAX_TREND_WEEKS} weeks`, path: ["to"] }),
        response: { 200: WeeklyTrends, ...periodErrors },
      },
    },
    async (request) => {
      const from = Date.parse(request.query.from);
      const to = Date.parse(request.query.to);
      checkPeriod(from, to, deps);
      const starts = Array.from({ length: Math.ceil((to - from) / WEEK_MS) }, (_, i) => from + i * WEEK_MS);
      // One expensive read for the whole trend: its weeks share the gate's turn, TREND_CONCURRENCY at a time.
      const weeks = await app.expensiveReads.run(async () => {
        const measured: WeeklyTrends["weeks"] = [];
        for (let i = 0; i < starts.length; i += TREND_CONCURRENCY) {
          measured.push(...(await Promise.all(starts.slice(i, i + TREND_CONCURRENCY).map((start) => weekOf(deps, start, Math.min(start + WEEK_MS, to))))));
        }
        return measured;
      });
      return { from: new Date(from).toISOString(), to: new Date(to).toISOString(), weeks };
    },
  );

  app.get("/v1/queues", { config: read, schema: { tags: ["dashboard"], summary: "Follow-up queue depth by job state", security, response: { 200: QueueHealth, ...errors, 503: ProblemResponse.describe("Redis did not answer in time") } } }, async () => {
    const queues = await withTimeout(
      Promise.all(
        deps.queues.map(async (q) => {
          const [counts, paused] = await Promise.all([q.getJobCounts(...JOB_STATES), q.isPaused()]);
          return { name: q.name, paused, counts: JobCounts.parse({ ...Object.fromEntries(JOB_STATES.map((s) => [s, 0])), ...counts }) };
        }),
      ),
      QUEUE_TIMEOUT_MS,
      () => new HttpProblem(503, `the queues did not answer in ${QUEUE_TIMEOUT_MS} ms`),
    );
    return { queues };
  });
};

async function weekOf(deps: ApiDeps, start: number, end: number): Promise<WeeklyTrends["weeks"][number]> {
  const report = await computeMeasures({ db: deps.pool, from: new Date(start), to: new Date(end), responseTargetMinutes: deps.settings.rules.responseTargetMinutes });
  const m = report.groups[0]?.measures;
  if (!m) throw new Error("computeMeasures returned no overall group");
  return {
    start: new Date(start).toISOString(),
    end: new Date(end).toISOString(),
    nps: { score: m.nps.score, responses: m.nps.responses },
    csat: { percent: m.csat.percent, responses: m.csat.responses },
    ces: { average: m.ces.average, responses: m.ces.responses },
    churn: { ratePercent: m.churn.ratePercent, activeAtStart: m.churn.activeAtStart, lost: m.churn.lost },
  };
}
