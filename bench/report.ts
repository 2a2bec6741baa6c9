import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { fmt as n } from "./format.js";
import { IngestReport, ingestSection } from "./ingest-report.js";

export { IngestReport };

interface Rate {
  events: number;
  seconds: number;
  perSecond: number;
}


export interface EngineReport {
  machine: Record<string, string | number>;
  customers: number;
  apply: Rate;
  readInputMs: number;
  fitMs: number;
  refreshMs: number;
  refreshed: number;
  /** Every count model the refit fitted (CLV_MODEL=auto: both), with what became of it. */
  countModels?: CountModelReport[];
  /** The model choice's sentence. */
  choice?: string;
  /** Before the model choice (issue 13) the report held the one BG/NBD fit: kept readable in an older benchmarks.json. */
  bgNbd?: { r: number; alpha: number; a: number; b: number; logLikelihood: number; iterations: number };
  gammaGamma?: { p: number; q: number; gamma: number; sampleSize: number } | undefined;
}

type CountModelReport = { kind: string; params: Record<string, number>; logLikelihood: number; iterations: number; status: string; holdoutMae: number | null };

/** The fitted count models of a report, new or old. */
function countModelsOf(r: EngineReport): CountModelReport[] {
  if (r.countModels) return r.countModels;
  if (!r.bgNbd) return [];
  const { logLikelihood, iterations, ...params } = r.bgNbd;
  return [{ kind: "bgnbd", params, logLikelihood, iterations, status: "accepted", holdoutMae: null }];
}

const MODEL_NAMES: Record<string, string> = { bgnbd: "BG/NBD", paretonbd: "Pareto/NBD" };
const PARAM_NAMES: Record<string, string> = { alpha: "α", beta: "β" };

function engineSection(r: EngineReport): string {
  const f = (x: number) => x.toFixed(4);
  return `## Lifecycle engine (issue 4)

Produced by bench/engine.bench.ts on the CDNOW master file, in-process against Postgres (no broker),
with the watermark clock (the last purchase, 1998-06-30). Figures from one run.

| | |
|---|---|
${Object.entries(r.machine).map(([k, v]) => `| ${k} | ${v} |`).join("\n")}

| step | figure |
|---|---|
| apply ${n(r.apply.events)} purchases (facts, then stage, CLV and health of the touched customers, batches of 2,000) | ${r.apply.seconds.toFixed(1)} s = ${n(r.apply.perSecond)} events/s |
| baseline: read the ${n(r.customers)} customers' model summaries from Postgres | ${n(r.readInputMs)} ms |
| **refit**: ${countModelsOf(r).map((m) => MODEL_NAMES[m.kind] ?? m.kind).join(" + ")} + Gamma-Gamma maximum likelihood over ${n(r.customers)} customers, each count model fitted again on the calibration window for its holdout validation | **${(r.fitMs / 1000).toFixed(2)} s** (${(r.fitMs / r.readInputMs).toFixed(1)}× the read) |
| refresh: re-evaluate all ${n(r.refreshed)} customers with the new models | ${(r.refreshMs / 1000).toFixed(2)} s = ${n(r.refreshed / (r.refreshMs / 1000))} customers/s |

Fitted on the whole history to 1998-06-30 (weeks): ${countModelsOf(r)
    .map((m) => `${MODEL_NAMES[m.kind] ?? m.kind} ${Object.entries(m.params).map(([k, v]) => `${PARAM_NAMES[k] ?? k} ${f(v)}`).join(", ")}, log-likelihood ${m.logLikelihood.toFixed(1)} (${m.iterations} Nelder-Mead iterations; ${m.status}${m.holdoutMae === null ? "" : `, holdout MAE ${m.holdoutMae.toFixed(4)}`})`)
    .join("; ")}${r.gammaGamma ? `; Gamma-Gamma p ${f(r.gammaGamma.p)}, q ${f(r.gammaGamma.q)}, γ ${f(r.gammaGamma.gamma)} over ${n(r.gammaGamma.sampleSize)} repeat buyers` : ""}.
${r.choice ? `Model choice: ${r.choice}.` : ""}
The fit reproduces the published parameters on the 1/10 sample's 39-week calibration (tests in
packages/domain/src/clv and test/lifecycle-engine.e2e.test.ts).
`;
}

interface Sections {
  ingest?: unknown;
  engine?: EngineReport;
}
const isSections = (x: unknown): x is Sections => typeof x === "object" && x !== null && !Array.isArray(x);

/** The ingest section, or a note when the JSON holds one an older bench wrote (another shape). */
function renderIngest(section: unknown): string {
  const parsed = IngestReport.safeParse(section);
  if (parsed.success) return ingestSection(parsed.data);
  return "## Ingest (issue 9)\n\nThe recorded ingest figures were written by an older bench in another shape; `npm run bench` measures them again.\n";
}

/**
 * Merges the given sections into the JSON beside the Markdown (so the ingest and the engine
 * benchmarks can run apart) and rewrites the Markdown page from every section present.
 */
export function writeReport(basePath: string, update: { ingest?: IngestReport; engine?: EngineReport }): void {
  const parsed: unknown = existsSync(`${basePath}.json`) ? JSON.parse(readFileSync(`${basePath}.json`, "utf8")) : {};
  // Our own file, written by this function: an object of sections.
  const previous = isSections(parsed) ? parsed : {};
  const sections: Sections = { ...previous, ...update };
  writeFileSync(`${basePath}.json`, `${JSON.stringify(sections, null, 2)}\n`);
  const md = [
    "# Benchmarks\n\nProduced by `npm run bench` (bench/*.bench.ts); not part of `npm test`. Each section\nrecords its machine and date; ratios compare figures of the same run.\n",
    sections.ingest !== undefined ? renderIngest(sections.ingest) : "",
    sections.engine ? engineSection(sections.engine) : "",
  ].filter(Boolean);
  writeFileSync(`${basePath}.md`, md.join("\n"));
}
