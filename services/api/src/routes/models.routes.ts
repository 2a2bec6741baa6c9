import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { ApiDeps } from "../deps.js";
import { Instant, KEYED_ERRORS, ProblemResponse } from "../http/schemas.js";
import { currentModels, modelHistory, P_ALIVE_BINS, pAliveDistribution, type CurrentRow, type HistoryRow, type ModelRow } from "./models.query.js";

// The fitted CLV models, seen and not only stored (issue 13, point 4): the models the engine
// applies now with their holdout validation, the model choice and the P(alive) distribution they
// give, and every fit's parameters and verdict over time. Shapes are those the refit stores
// (StoredValidation, StoredSelection in packages/engine; HoldoutValidation in packages/domain).

const CountModelKind = z.enum(["bgnbd", "paretonbd"]);
const ModelKind = z.enum(["bgnbd", "paretonbd", "gamma-gamma"]);

const BgNbdParams = z.object({ r: z.number(), alpha: z.number(), a: z.number(), b: z.number() }).describe("BG/NBD: purchase rate Gamma(r, α), dropout Beta(a, b)");
const ParetoNbdParams = z.object({ r: z.number(), alpha: z.number(), s: z.number(), beta: z.number() }).describe("Pareto/NBD: purchase rate Gamma(r, α), dropout rate Gamma(s, β)");
const GammaGammaParams = z.object({ p: z.number(), q: z.number(), gamma: z.number() }).describe("Gamma-Gamma: spend per purchase, shape p, mean spend's Gamma(q, γ)");
const ModelParams = z.union([BgNbdParams, ParetoNbdParams, GammaGammaParams]).describe("The population parameters, per `kind`; rates per time unit (`timeUnitDays`)");

const HoldoutGroup = z.object({
  calibrationTransactions: z.number().int().describe("Repeat purchases in the calibration window (x); the last row is this many or more"),
  orMore: z.boolean(),
  customers: z.number().int(),
  actual: z.number().describe("Holdout repeat purchases of the row's customers, summed"),
  predicted: z.number(),
  actualMean: z.number(),
  predictedMean: z.number(),
});

const TrackingPoint = z.object({
  t: z.number().describe("Time units after the calibration end (weeks when `timeUnitDays` is 7)"),
  actual: z.number().describe("Repeat purchases in the holdout up to t, cumulative"),
  predicted: z.number(),
});

const Validated = z.object({
  calibrationEnd: Instant.describe("The holdout starts here: the validation's model was fitted on the purchases before"),
  holdoutShare: z.number().describe("The last share of the observed period held out (CLV_HOLDOUT_SHARE)"),
  calibrationFit: z.union([BgNbdParams.extend({ logLikelihood: z.number() }), ParetoNbdParams.extend({ logLikelihood: z.number() })]).describe("The calibration window's fit that was scored"),
  customers: z.number().int().describe("Customers acquired by the calibration end: those scored"),
  holdoutLength: z.number().describe("In time units"),
  calibrationTransactions: z.number(),
  actualTransactions: z.number(),
  predictedTransactions: z.number(),
  byCalibrationTransactions: z.array(HoldoutGroup).describe("Actual against predicted holdout repeat purchases by calibration repeat purchases 0 … 7+"),
  tracking: z.array(TrackingPoint).describe("Cumulative actual and predicted holdout repeat purchases, per time step"),
  meanAbsoluteError: z.number().describe("Mean over customers of |predicted − actual| holdout repeat purchases"),
  correlation: z.number().nullable().describe("Pearson correlation of predicted and actual per customer; null when either does not vary"),
});
const Skipped = z.object({ skipped: z.string().describe("Why no validation was made"), holdoutShare: z.number() });
export const StoredValidation = z.union([Validated, Skipped]).describe("The refit's holdout validation of this model, or why there is none");

const ValidationSummary = z
  .object({
    holdoutShare: z.number().nullable(),
    meanAbsoluteError: z.number().nullable(),
    correlation: z.number().nullable(),
    skipped: z.string().nullable().describe("Why no validation was made; null when there is one"),
  })
  .describe("The holdout validation's headline figures (GET /v1/models/current has its tables)");

export const StoredSelection = z
  .object({
    setting: z.enum(["bgnbd", "paretonbd", "auto"]).describe("CLV_MODEL when the refit ran"),
    candidates: z.array(z.object({ model: CountModelKind, mae: z.number().nullable().describe("Holdout MAE; null when not validated"), rejected: z.string().nullable().describe("The fit guard's reason, when it rejected the fit") })),
    choice: z.object({ model: CountModelKind.nullable().describe("The applied model; null when every candidate was rejected"), why: z.string() }),
    validations: z.array(z.object({ kind: CountModelKind, validation: StoredValidation })).describe("Every candidate's holdout validation"),
  })
  .describe("The refit's choice between the count models, stored with the model it applied");

const modelFields = {
  id: z.number().int(),
  kind: ModelKind,
  status: z.enum(["accepted", "rejected", "not-chosen"]).describe("accepted: applied; rejected: by the fit guard (`reason`), never applied; not-chosen: acceptable, but the model choice applied the other count model"),
  reason: z.string().nullable().describe("Why not applied, machine-readable (e.g. too-few-repeat-buyers, parameter-at-bound, not-chosen); null when accepted"),
  reasonDetail: z.string().nullable(),
  params: ModelParams,
  logLikelihood: z.number(),
  sampleSize: z.number().int().describe("Customers the model was fitted on"),
  iterations: z.number().int(),
  converged: z.boolean(),
  timeUnitDays: z.number().describe("The model's time unit in days (7: weeks)"),
  calibrationEnd: Instant.describe("The engine's clock when fitted: the data's end"),
  fittedAt: Instant,
  durationMs: z.number().int().describe("Fit time"),
};

export const Model = z.object({ ...modelFields, validation: StoredValidation.nullable() });
export type Model = z.infer<typeof Model>;
export const ModelSummary = z.object({ ...modelFields, validation: ValidationSummary.nullable() });

export const CurrentModels = z.object({
  count: Model.nullable().describe("The applied purchase-count model (BG/NBD or Pareto/NBD); null before the first accepted fit"),
  spend: Model.nullable().describe("The applied Gamma-Gamma spend model; null before the first accepted fit"),
  pAliveDistribution: z
    .array(z.object({ from: z.number(), to: z.number().describe("Exclusive, but for the last bin"), customers: z.number().int() }))
    .describe(`Customers whose P(alive) the count model gave, in ${P_ALIVE_BINS} bins over [0, 1]; empty without a count model`),
  choice: StoredSelection.nullable().describe("The model choice stored with the count model; null for a model fitted without one"),
});
export type CurrentModels = z.infer<typeof CurrentModels>;

export const ModelHistory = z.object({
  models: z.array(ModelSummary),
  nextBefore: z.number().int().nullable().describe("Pass as `before` for older models; null at the end"),
});
export type ModelHistory = z.infer<typeof ModelHistory>;

const LIMIT_MESSAGE = "must be a whole number from 1 to 200";
const BEFORE_MESSAGE = "must be a model id (a whole number from 1)";
const HistoryQuery = z.object({
  limit: z.coerce.number({ error: LIMIT_MESSAGE }).int(LIMIT_MESSAGE).min(1, LIMIT_MESSAGE).max(200, LIMIT_MESSAGE).default(50).describe("Page size. @defaultValue 50"),
  before: z.coerce
    .number({ error: BEFORE_MESSAGE })
    .int(BEFORE_MESSAGE)
    .min(1, BEFORE_MESSAGE)
    .max(Number.MAX_SAFE_INTEGER, BEFORE_MESSAGE)
    .optional()
    .describe("Models with ids below this: the `nextBefore` of the previous page; absent for the newest"),
});

const fields = (r: ModelRow) => ({
  id: r.id,
  kind: r.kind,
  status: r.status,
  reason: r.reason,
  reasonDetail: r.reason_detail,
  params: ModelParams.parse(r.params),
  logLikelihood: r.log_likelihood,
  sampleSize: r.sample_size,
  iterations: r.iterations,
  converged: r.converged,
  timeUnitDays: r.time_unit_days,
  calibrationEnd: r.calibration_end.toISOString(),
  fittedAt: r.fitted_at.toISOString(),
  durationMs: r.duration_ms,
});

const toModel = (r: CurrentRow): Model => ({ ...fields(r), validation: r.validation === null ? null : StoredValidation.parse(r.validation) });

const toSummary = (r: HistoryRow): z.infer<typeof ModelSummary> => ({
  ...fields(r),
  validation: r.validated ? { holdoutShare: r.holdout_share, meanAbsoluteError: r.mean_absolute_error, correlation: r.correlation, skipped: r.skipped } : null,
});

const CURRENT_DESCRIPTION = `The models the engine applies now, as \`clv_models\` stores them: the newest accepted purchase-count \
model (BG/NBD or Pareto/NBD: whichever the last refit applied) and the newest accepted Gamma-Gamma, each with its parameters, \
fit time, sample size, log-likelihood and holdout validation (actual against predicted repeat purchases by calibration purchases \
0 … 7+ and the cumulative weekly tracking series); the model choice stored with the count model (each candidate's holdout \
MAE or rejection, the choice and why); and the distribution of P(alive) over the customers that count model predicted.`;

const HISTORY_DESCRIPTION = `Every fitted model, newest first: accepted (applied), rejected by the fit guard (with its reason) \
or not chosen (an acceptable count model the model choice passed over), with its parameters and the holdout validation's \
headline figures. Paged by id: pass \`nextBefore\` as \`before\`.`;

/** GET /v1/models/current and GET /v1/models: the CLV models, current and over time. */
export const modelsRoutes: FastifyPluginAsyncZod<{ deps: ApiDeps }> = async (app, { deps }) => {
  app.get(
    "/v1/models/current",
    {
      config: { scope: "read" },
      schema: {
        tags: ["models"],
        summary: "The applied CLV models with their holdout validation, the model choice and the P(alive) distribution",
        description: CURRENT_DESCRIPTION,
        security: [{ apiKey: [] }],
        response: { 200: CurrentModels, ...KEYED_ERRORS, 503: ProblemResponse.describe("Too many expensive reads at once; retry shortly") },
      },
    },
    async () => {
      const { count, spend } = await currentModels(deps.pool);
      // The histogram reads every customer: one of the gated expensive reads.
      const distribution = count ? await app.expensiveReads.run(() => pAliveDistribution(deps.pool, count.id)) : [];
      return {
        count: count ? toModel(count) : null,
        spend: spend ? toModel(spend) : null,
        pAliveDistribution: distribution,
        choice: count?.selection == null ? null : StoredSelection.parse(count.selection),
      };
    },
  );

  app.get(
    "/v1/models",
    {
      config: { scope: "read" },
      schema: {
        tags: ["models"],
        summary: "Every fitted CLV model, newest first: parameters, fit, verdict and holdout error",
        description: HISTORY_DESCRIPTION,
        security: [{ apiKey: [] }],
        querystring: HistoryQuery,
        response: { 200: ModelHistory, ...KEYED_ERRORS },
      },
    },
    async (request) => {
      const { limit, before } = request.query;
      // One more than asked: whether there is an older page.
      const rows = await modelHistory(deps.pool, { before, limit: limit + 1 });
      const page = rows.slice(0, limit);
      return { models: page.map(toSummary), nextBefore: rows.length > limit ? (page.at(-1)?.id ?? null) : null };
    },
  );
};
