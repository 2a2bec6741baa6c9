// `npm run bench` (second part): the lifecycle engine on the CDNOW master file (issue 4).
//   apply:   69,659 purchases applied in-process (facts + stage/CLV/health evaluation per batch)
//   read:    reading every purchasing customer's model summary from Postgres (the baseline)
//   fit:     BG/NBD + Gamma-Gamma maximum likelihood over 23,570 customers
//   refresh: re-evaluating every customer with the new models (predictions, stage, health)
// Writes the `engine` section of docs/benchmarks.{md,json}.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";
import { createDatabase, createOutboxRepo, createPool, dropDatabase, migrate } from "@lifecycle/db";
import { EngineSettings } from "@lifecycle/domain";
import { createClock, createModelCache, createModelsRepo, refitModels } from "@lifecycle/engine";
import { cdnowRowsToEvents, LifecycleEvent, parseCdnowLine } from "@lifecycle/events";
import { execFileSync } from "node:child_process";
import { applyEvents, createApplyDeps } from "@lifecycle/pipeline";
import { describeMachine } from "./machine.js";
import { writeReport } from "./report.js";

const root = fileURLToPath(new URL("../", import.meta.url));
const say = (m: string) => console.log(`[bench:engine] ${m}`);
const url = `postgres://postgres@127.0.0.1:5432/lifecycle_bench_engine_${Date.now().toString(36)}`;
const seconds = (ms: number) => ms / 1000;

say(execFileSync("bash", [`${root}infra/local-infra.sh`, "services"], { encoding: "utf8" }).trim().split("\n").join("; "));
await createDatabase(url);
const pool = createPool({ connectionString: url, max: 4 });
try {
  await migrate({ databaseUrl: url });
  const events = cdnowRowsToEvents(readFileSync(`${root}../shared/data/cdnow/CDNOW_master.txt`, "utf8").split("\n").flatMap((l) => parseCdnowLine(l) ?? [])).map((e) => LifecycleEvent.parse(e));
  const clock = createClock({ mode: "watermark" });
  const settings = EngineSettings.parse({});
  const deps = createApplyDeps({ pool, rates: { USD: "1" }, clock, settings, modelCacheMs: 0 });

  let t = performance.now();
  for (let i = 0; i < events.length; i += 2_000) {
    await applyEvents(deps, events.slice(i, i + 2_000).map((event, j) => ({ event, topic: "bench", partition: 0, offset: i + j })));
  }
  const applyMs = performance.now() - t;
  say(`apply: ${events.length} events in ${seconds(applyMs).toFixed(1)} s`);

  t = performance.now();
  const read = await pool.query("SELECT purchase_days, first_purchase_at, last_purchase_at, repeat_day_spend_mean FROM customers WHERE purchase_days >= 1");
  const readMs = performance.now() - t;

  const repo = createModelsRepo(pool);
  const cache = createModelCache({ repo, ttlMs: 0 });
  const fit = await refitModels({ pool, outbox: createOutboxRepo(pool), clock, repo, cache, settings });
  if (!fit.fitted) throw new Error(`not fitted: ${fit.why}`);
  say(`fit over ${fit.sampleSize} customers: ${seconds(fit.fitMs).toFixed(2)} s; refresh of ${fit.reevaluated}: ${seconds(fit.reevaluateMs).toFixed(2)} s; reading the input: ${readMs.toFixed(0)} ms (${read.rowCount} rows)`);

  writeReport(`${root}docs/benchmarks`, {
    engine: {
      machine: describeMachine({ postgres: "local", clock: "watermark (1998-06-30)" }),
      customers: fit.sampleSize,
      apply: { events: events.length, seconds: seconds(applyMs), perSecond: events.length / seconds(applyMs) },
      readInputMs: readMs,
      fitMs: fit.fitMs,
      refreshMs: fit.reevaluateMs,
      refreshed: fit.reevaluated,
      countModels: fit.countFits.map(({ kind, fit: c, status }) => ({
        kind,
        params: c.model.spec.params,
        logLikelihood: c.logLikelihood,
        iterations: c.iterations,
        status,
        holdoutMae: fit.selection.candidates.find((m) => m.model === kind)?.mae ?? null,
      })),
      choice: fit.selection.choice.why,
      gammaGamma: fit.gammaGamma && { p: fit.gammaGamma.p, q: fit.gammaGamma.q, gamma: fit.gammaGamma.gamma, sampleSize: fit.gammaGamma.sampleSize },
    },
  });
  say("wrote the engine section of docs/benchmarks.md and docs/benchmarks.json");
} finally {
  await pool.end();
  await dropDatabase(url);
}
