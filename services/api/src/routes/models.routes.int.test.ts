import { afterAll } from "vitest";
import { createOutboxRepo, type Pool } from "@lifecycle/db";
import { EngineSettings } from "@lifecycle/domain";
import { createClock, createModelCache, createModelsRepo, refitModels } from "@lifecycle/engine";
import type { LifecycleEvent } from "@lifecycle/events";
import { describe, expect, test } from "@lifecycle/testkit";
import { createApiHarness, createTestIngest, purchase, type ApiHarness } from "../test-support/api-harness.js";
import { CurrentModels, ModelHistory } from "./models.routes.js";

// GET /v1/models/current and GET /v1/models (issue 13, point 4) on real Postgres: 80 customers
// buying by a seeded BG/NBD-like process (a purchase rate each, a chance to drop out after every
// purchase, a spend level each) over 78 weeks, fitted by the engine's own refit. Two refits: one
// on the first purchases alone (no repeat buyer: the guard rejects both count models), one on the
// whole history (accepted, with holdout validation and the model choice). Every figure the API
// gives is compared with the row in clv_models and with the customers' own P(alive).

const START = Date.parse("2024-01-01T00:00:00Z");
const NOW = new Date("2025-07-01T00:00:00Z");
const DAY_MS = 86_400_000;
const CUSTOMERS = 80;

/** mulberry32: the same history on every run. */
function random(seed: number) {
  let s = seed;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Each customer's purchases: acquired in the first 12 weeks, then purchases at their own weekly rate until they drop out. */
function history(): { first: LifecycleEvent[]; repeats: LifecycleEvent[] } {
  const u = random(13);
  const first: LifecycleEvent[] = [];
  const repeats: LifecycleEvent[] = [];
  for (let i = 0; i < CUSTOMERS; i++) {
    const id = `m${String(i).padStart(3, "0")}`;
    const perWeek = 0.05 + 0.6 * u();
    const dropout = 0.05 + 0.35 * u();
    const spend = 15 + 60 * u();
    const amount = () => (spend * (0.7 + 0.6 * u())).toFixed(2);
    let day = Math.floor(84 * u());
    first.push(purchase(id, new Date(START + day * DAY_MS + 12 * 3_600_000).toISOString(), amount()));
    for (;;) {
      if (u() < dropout) break;
      day += Math.max(1, Math.round((-Math.log(1 - u()) / perWeek) * 7));
      const at = START + day * DAY_MS + 12 * 3_600_000;
      if (at >= NOW.getTime()) break;
      repeats.push(purchase(id, new Date(at).toISOString(), amount()));
    }
  }
  return { first, repeats: repeats.sort((a, b) => Date.parse(a.time) - Date.parse(b.time)) };
}

type ModelDbRow = {
  id: number;
  kind: string;
  status: string;
  reason: string | null;
  reason_detail: string | null;
  params: Record<string, number>;
  log_likelihood: number;
  sample_size: number;
  iterations: number;
  converged: boolean;
  time_unit_days: number;
  calibration_end: Date;
  fitted_at: Date;
  duration_ms: number;
  validation: Record<string, unknown> | null;
  selection: unknown;
};

let h: ApiHarness;
let pool: Pool;
let beforeAnyFit: unknown;

const get = (url: string, headers: Record<string, string> = h.auth(h.keys.read)) => h.app.inject({ method: "GET", url, headers });
const dbModels = async () => (await pool.query<ModelDbRow>("SELECT * FROM clv_models ORDER BY id DESC")).rows;
/** A row's fields as the API names them. */
const asApi = (r: ModelDbRow) => ({
  id: r.id,
  kind: r.kind,
  status: r.status,
  reason: r.reason,
  reasonDetail: r.reason_detail,
  params: r.params,
  logLikelihood: r.log_likelihood,
  sampleSize: r.sample_size,
  iterations: r.iterations,
  converged: r.converged,
  timeUnitDays: r.time_unit_days,
  calibrationEnd: r.calibration_end.toISOString(),
  fittedAt: r.fitted_at.toISOString(),
  durationMs: r.duration_ms,
});

describe("GET /v1/models/current and GET /v1/models", () => {
  test.beforeAll(async ({ infra, database }) => {
    pool = database.pool;
    h = await createApiHarness({ infra, pool });
    const settings = EngineSettings.parse({});
    const apply = createTestIngest({ pool, now: NOW, settings });
    const repo = createModelsRepo(pool);
    const refit = (at: string) =>
      refitModels({ pool, outbox: createOutboxRepo(pool), clock: createClock({ mode: "wall", wallNow: () => new Date(at) }), repo, cache: createModelCache({ repo, ttlMs: 0 }), settings });

    const { first, repeats } = history();
    await apply(...first);
    beforeAnyFit = (await get("/v1/models/current")).json();
    // Nobody has bought twice yet: both count models rejected, Gamma-Gamma not fitted (no repeat spend).
    const early = await refit("2024-04-01T00:00:00Z");
    expect(early).toMatchObject({ fitted: true, applied: [] });
    for (let i = 0; i < repeats.length; i += 200) await apply(...repeats.slice(i, i + 200));
    const full = await refit(NOW.toISOString());
    if (!full.fitted) throw new Error(full.why);
    expect(full.applied).toContain("gamma-gamma");
    expect(full.countModel, JSON.stringify(full.selection.candidates)).toBeDefined();
  }, 120_000);
  afterAll(async () => {
    await h?.close();
  });

  test("before any accepted fit there is no current model and no distribution", () => {
    expect(beforeAnyFit).toEqual({ count: null, spend: null, pAliveDistribution: [], choice: null });
  });

  test("the current models are the newest accepted rows, with the validation and the choice as stored", async () => {
    const r = await get("/v1/models/current");
    expect(r.statusCode, r.body).toBe(200);
    const current = CurrentModels.parse(r.json());
    const rows = await dbModels();
    const count = rows.find((m) => m.status === "accepted" && m.kind !== "gamma-gamma");
    const spend = rows.find((m) => m.status === "accepted" && m.kind === "gamma-gamma");
    if (!count || !spend) throw new Error("the refit applied no model");

    expect(current.count).toEqual({ ...asApi(count), validation: count.validation });
    expect(current.spend).toEqual({ ...asApi(spend), validation: null });
    expect(current.choice).toEqual(count.selection);
    // The figures the Models page draws: a real validation with its tables.
    const validation = current.count?.validation;
    if (!validation || "skipped" in validation) throw new Error(`no validation: ${JSON.stringify(validation)}`);
    expect(validation.byCalibrationTransactions.map((g) => g.calibrationTransactions)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(validation.byCalibrationTransactions.reduce((n, g) => n + g.customers, 0)).toBe(validation.customers);
    expect(validation.tracking.length).toBeGreaterThan(10);
    expect(validation.tracking.at(-1)?.actual).toBe(validation.actualTransactions);
    expect(current.choice?.candidates.map((c) => c.model)).toEqual(["bgnbd", "paretonbd"]);
    expect(current.choice?.choice.model).toBe(count.kind);
  });

  test("the P(alive) distribution counts every customer the count model predicted, bin by bin", async () => {
    const current = CurrentModels.parse((await get("/v1/models/current")).json());
    const id = current.count?.id;
    const { rows } = await pool.query<{ p_alive: number }>("SELECT p_alive FROM customers WHERE clv_model_id = $1 AND p_alive IS NOT NULL", [id]);
    expect(rows).toHaveLength(CUSTOMERS);
    const expected = Array.from({ length: 10 }, () => 0);
    for (const { p_alive } of rows) {
      const bin = Math.min(9, Math.floor(p_alive * 10));
      expected[bin] = (expected[bin] ?? 0) + 1;
    }
    expect(current.pAliveDistribution.map((b) => b.customers)).toEqual(expected);
    expect(current.pAliveDistribution.map((b) => [b.from, b.to])).toEqual(Array.from({ length: 10 }, (_, i) => [i / 10, (i + 1) / 10]));
    expect(current.pAliveDistribution.reduce((n, b) => n + b.customers, 0)).toBe(CUSTOMERS);
  });

  test("the history lists every fit newest first with its verdict and validation summary, paged by id", async () => {
    const rows = await dbModels();
    // The rejected early pair, then the accepted or not-chosen count models and Gamma-Gamma.
    expect(rows.map((m) => m.status).sort()).toEqual(["accepted", "accepted", "not-chosen", "rejected", "rejected"].sort());
    const r = await get("/v1/models");
    expect(r.statusCode, r.body).toBe(200);
    const history = ModelHistory.parse(r.json());
    expect(history.nextBefore).toBeNull();
    expect(history.models).toEqual(
      rows.map((m) => {
        const v = m.validation;
        const summary = v && { holdoutShare: v.holdoutShare, meanAbsoluteError: v.meanAbsoluteError ?? null, correlation: v.correlation ?? null, skipped: v.skipped ?? null };
        return { ...asApi(m), validation: summary };
      }),
    );
    const rejected = history.models.filter((m) => m.status === "rejected");
    expect(rejected.map((m) => [m.kind, m.reason, m.validation])).toEqual([
      ["paretonbd", "too-few-repeat-buyers", null],
      ["bgnbd", "too-few-repeat-buyers", null],
    ]);
    const notChosen = history.models.find((m) => m.status === "not-chosen");
    expect(notChosen?.validation?.meanAbsoluteError).toBeGreaterThan(0);

    const paged: number[] = [];
    let before: number | null | undefined;
    do {
      const page = ModelHistory.parse((await get(`/v1/models?limit=2${before ? `&before=${before}` : ""}`)).json());
      expect(page.models.length).toBeLessThanOrEqual(2);
      paged.push(...page.models.map((m) => m.id));
      before = page.nextBefore;
    } while (before !== null);
    expect(paged).toEqual(rows.map((m) => m.id));
  });

  test("bad parameters are a 400 naming them; no key a 401, a key without the read scope a 403", async () => {
    for (const query of ["limit=0", "limit=201", "limit=ten", "before=0", "before=1.5"]) {
      const r = await get(`/v1/models?${query}`);
      expect(r.statusCode, query).toBe(400);
      expect(r.headers["content-type"]).toContain("application/problem+json");
      expect(r.json<{ errors: { path: string }[] }>().errors[0]?.path, query).toBe(`querystring.${query.split("=")[0]}`);
    }
    for (const url of ["/v1/models", "/v1/models/current"]) {
      expect((await get(url, {})).statusCode, url).toBe(401);
      expect((await get(url, h.auth(h.keys.ingest))).statusCode, url).toBe(403);
    }
  });
});
