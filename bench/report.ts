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

/** One comparison of bench/partitioning.bench.ts. */
interface PartitioningComparison {
  /** Months the events span (each its own partition on the partitioned side). */
  months: number;
  partitioned: Rate;
  unpartitioned: Rate;
}

/** bench/partitioning.bench.ts: the ingest transaction on partitioned and plain tables, interleaved. */
export interface PartitioningReport {
  machine: Record<string, string | number>;
  batch: number;
  history: PartitioningComparison;
  live: PartitioningComparison;
}

function partitioningSection(r: PartitioningReport): string {
  const ratio = (c: PartitioningComparison) => c.partitioned.perSecond / c.unpartitioned.perSecond;
  const rows = (label: string, c: PartitioningComparison) => `| ${label}, partitioned by month | ${n(c.partitioned.events)} | ${c.partitioned.seconds.toFixed(1)} | ${n(c.partitioned.perSecond)} |
| ${label}, plain tables (before partitioning) | ${n(c.unpartitioned.events)} | ${c.unpartitioned.seconds.toFixed(1)} | ${n(c.unpartitioned.perSecond)} |`;
  const target = (label: string, c: PartitioningComparison) => `| no throughput loss from partitioning, ${label}: partitioned ÷ plain ≥ 0.95 | ${ratio(c).toFixed(3)} | ${ratio(c) >= 0.95 ? "met" : "**not met**"} |`;
  return `## Partitioning (issue 15)

Produced by bench/partitioning.bench.ts: the ingest transaction (applyEvents: dedupe, facts,
evaluation, outbox; no broker) on two databases, one with \`inbox_events\` and \`stage_transitions\`
partitioned by month (a partition for each month of the input), one with both as plain tables, fed
the same events in the same batches of ${n(r.batch)}, interleaved batch by batch (who goes first
alternates), so the host's drift over the run falls on both alike. **History**: CDNOW and a
synthetic mix over 1997-98 (${r.history.months} months), so every batch touches every month's
partition: the worst case, a replay of history. **Live**: as many synthetic events, all of this
month so far (${r.live.months} partition), as live traffic is. Figures from one run.

| | |
|---|---|
${Object.entries(r.machine).map(([k, v]) => `| ${k} | ${v} |`).join("\n")}

| input, tables | events | seconds in applyEvents | events/s |
|---|---:|---:|---:|
${rows("history", r.history)}
${rows("live", r.live)}

| target (issue 15; 0.95: we accept up to 5 %, more than this comparison varies between runs here) | measured | |
|---|---|---|
${target("history (every batch in 18 partitions)", r.history)}
${target("live (one partition)", r.live)}
`;
}

interface Sections {
  ingest?: unknown;
  engine?: EngineReport;
  partitioning?: PartitioningReport;
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
export function writeReport(basePath: string, update: { ingest?: IngestReport; engine?: EngineReport; partitioning?: PartitioningReport }): void {
  const parsed: unknown = existsSync(`${basePath}.json`) ? JSON.parse(readFileSync(`${basePath}.json`, "utf8")) : {};
  // Our own file, written by this function: an object of sections.
  const previous = isSections(parsed) ? parsed : {};
  const sections: Sections = { ...previous, ...update };
  writeFileSync(`${basePath}.json`, `${JSON.stringify(sections, null, 2)}\n`);
  const md = [
    "# Benchmarks\n\nProduced by `npm run bench` (bench/*.bench.ts); not part of `npm test`. Each section\nrecords its machine and date; ratios compare figures of the same run.\n",
    sections.ingest !== undefined ? renderIngest(sections.ingest) : "",
    sections.engine ? engineSection(sections.engine) : "",
    sections.partitioning ? partitioningSection(sections.partitioning) : "",
  ].filter(Boolean);
  writeFileSync(`${basePath}.md`, md.join("\n"));
}
