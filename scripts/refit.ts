// `npm run refit`: fits BG/NBD and Gamma-Gamma now (as the worker's daily schedule does), then
// sweeps due stages, and prints the parameters, the timings and the stage distribution.
// Uses DATABASE_URL and the engine's environment (LIFECYCLE_CLOCK=watermark after a replay of history).
import { z } from "zod";
import { loadConfig, pgEnv } from "@lifecycle/config";
import { createOutboxRepo, createPool } from "@lifecycle/db";
import { createClock, createModelCache, createModelsRepo, engineEnv, engineSettings, refitModels, sweepDueCustomers } from "@lifecycle/engine";

const config = loadConfig(z.object({ ...pgEnv, ...engineEnv }));
const pool = createPool({ connectionString: config.DATABASE_URL, max: 2, applicationName: "lifecycle-refit" });
const settings = engineSettings(config);
const clock = createClock({ mode: config.LIFECYCLE_CLOCK });
const repo = createModelsRepo(pool);
const cache = createModelCache({ repo, ttlMs: 0 });
const outbox = createOutboxRepo(pool);
const f = (x: number, d = 4) => x.toFixed(d);

try {
  const fit = await refitModels({ pool, outbox, clock, repo, cache, settings });
  if (!fit.fitted) {
    console.log(`not fitted: ${fit.why}`);
  } else {
    const { bgNbd: b, gammaGamma: g } = fit;
    console.log(`clock (${clock.mode}): ${fit.now.toISOString()}`);
    console.log(`BG/NBD over ${b.sampleSize} customers: r ${f(b.r)}, α ${f(b.alpha)}, a ${f(b.a)}, b ${f(b.b)}, LL ${f(b.logLikelihood, 2)}${b.converged ? "" : " (not converged)"}`);
    if (g) console.log(`Gamma-Gamma over ${g.sampleSize} repeat buyers: p ${f(g.p)}, q ${f(g.q)}, γ ${f(g.gamma)}, LL ${f(g.logLikelihood, 2)}`);
    console.log(`fit ${(fit.fitMs / 1000).toFixed(2)} s; re-evaluated ${fit.reevaluated} customers in ${(fit.reevaluateMs / 1000).toFixed(2)} s`);
  }
  const sweep = await sweepDueCustomers({ pool, outbox, clock, models: cache, settings });
  console.log(sweep.ran ? `sweep: ${sweep.evaluated} customers due, ${sweep.transitions} transitions` : `sweep skipped: ${sweep.why}`);
  const stages = await pool.query<{ stage: string | null; n: number }>("SELECT stage, count(*)::int AS n FROM customers GROUP BY stage ORDER BY n DESC");
  console.log(`stages: ${stages.rows.map((r) => `${r.stage ?? "(none)"} ${r.n}`).join(", ")}`);
} finally {
  await pool.end();
}
