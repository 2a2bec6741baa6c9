import { createOutboxRepo, type Pool } from "@lifecycle/db";
import type { EngineSettings } from "@lifecycle/domain";
import { createModelCache, createModelsRepo, refitModels, sweepDueCustomers, type Clock, type RefitResult, type SweepResult } from "@lifecycle/engine";

export interface EngineRun {
  fit: RefitResult;
  sweep: SweepResult;
  stages: { stage: string | null; n: number }[];
}

/** What the worker's schedule does, at once: refit the CLV models, sweep due stages, count stages. */
export async function refitAndSweep({ pool, clock, settings }: { pool: Pool; clock: Clock; settings: EngineSettings }): Promise<EngineRun> {
  const repo = createModelsRepo(pool);
  const cache = createModelCache({ repo, ttlMs: 0 });
  const outbox = createOutboxRepo(pool);
  const fit = await refitModels({ pool, outbox, clock, repo, cache, settings });
  const sweep = await sweepDueCustomers({ pool, outbox, clock, models: cache, settings });
  const stages = (await pool.query<{ stage: string | null; n: number }>("SELECT stage, count(*)::int AS n FROM customers GROUP BY stage ORDER BY n DESC")).rows;
  return { fit, sweep, stages };
}

const f = (x: number, d = 4) => x.toFixed(d);
const MODEL_NAMES = { bgnbd: "BG/NBD", paretonbd: "Pareto/NBD" } as const;
const PARAM_NAMES: Record<string, string> = { alpha: "α", beta: "β" };

/** Human-readable lines for a run. */
export function describeEngineRun({ fit, sweep, stages }: EngineRun): string[] {
  const lines: string[] = [];
  if (!fit.fitted) lines.push(`models not fitted: ${fit.why}`);
  else {
    const g = fit.gammaGamma;
    lines.push(`clock: ${fit.now.toISOString()}`);
    for (const { kind, fit: c, status } of fit.countFits) {
      const params = Object.entries(c.model.spec.params).map(([name, value]) => `${PARAM_NAMES[name] ?? name} ${f(value)}`).join(", ");
      lines.push(`${MODEL_NAMES[kind]} over ${c.sampleSize} customers: ${params}, LL ${f(c.logLikelihood, 2)}${c.converged ? "" : " (not converged)"} — ${status}`);
    }
    lines.push(`model choice: ${fit.selection.choice.why}`);
    if (g) lines.push(`Gamma-Gamma over ${g.sampleSize} repeat buyers: p ${f(g.p)}, q ${f(g.q)}, γ ${f(g.gamma)}`);
    lines.push(`fit ${(fit.fitMs / 1000).toFixed(2)} s; ${fit.reevaluated} customers re-evaluated in ${(fit.reevaluateMs / 1000).toFixed(2)} s`);
  }
  lines.push(sweep.ran ? `sweep: ${sweep.evaluated} customers due, ${sweep.transitions} transitions` : `sweep skipped: ${sweep.why}`);
  lines.push(`stages: ${stages.map((r) => `${r.stage ?? "(none)"} ${r.n}`).join(", ")}`);
  return lines;
}
