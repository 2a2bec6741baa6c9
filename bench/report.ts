import { existsSync, readFileSync, writeFileSync } from "node:fs";

interface Rate {
  events: number;
  seconds: number;
  perSecond: number;
}

export interface IngestReport {
  machine: Record<string, string | number>;
  input: { cdnow: number; synthetic: number; customers: number; total: number; topics: number; partitionsPerTopic: number; producedInSeconds: number };
  raw: Rate;
  ours: Rate;
  latency: { offeredPerSecond: number; seconds: number; events: number; p50ms: number; p99ms: number; maxMs: number };
  naive: Rate;
  oursOnNaiveSample: Rate;
}

const n = (x: number) => Math.round(x).toLocaleString("en-US");
const pass = (ok: boolean) => (ok ? "met" : "**not met**");

function ingestSection(r: IngestReport): string {
  const ofRaw = r.ours.perSecond / r.raw.perSecond;
  const vsNaive = r.oursOnNaiveSample.perSecond / r.naive.perSecond;
  return `## Ingest (issue 3)

Produced by bench/ingest.bench.ts. Every figure in this section comes from one run on one broker,
and the ratios compare figures of that same run.

### Machine and run

| | |
|---|---|
${Object.entries(r.machine).map(([k, v]) => `| ${k} | ${v} |`).join("\n")}

Input: the CDNOW master file (${n(r.input.cdnow)} purchases) plus ${n(r.input.synthetic)} seeded synthetic events
(purchases, refunds, registrations, tickets, surveys) over ${n(r.input.customers)} customers: ${n(r.input.total)} events on
${r.input.topics} topics × ${r.input.partitionsPerTopic} partitions, all produced before consuming (in ${r.input.producedInSeconds.toFixed(1)} s).
The broker, Postgres, Redis, the producer and the consumer share the machine.

| measure | events | seconds | events/s |
|---|---:|---:|---:|
| (a) raw drain: a do-nothing kafkajs consumer | ${n(r.raw.events)} | ${r.raw.seconds.toFixed(1)} | ${n(r.raw.perSecond)} |
| (b) ours: decode, validate, one transaction per partition batch, offsets committed after | ${n(r.ours.events)} | ${r.ours.seconds.toFixed(1)} | ${n(r.ours.perSecond)} |
| (d) naive: the same consumer, one transaction per event (on a ${n(r.naive.events)}-event sample) | ${n(r.naive.events)} | ${r.naive.seconds.toFixed(1)} | ${n(r.naive.perSecond)} |
| (b′) ours on that same sample | ${n(r.oursOnNaiveSample.events)} | ${r.oursOnNaiveSample.seconds.toFixed(1)} | ${n(r.oursOnNaiveSample.perSecond)} |

(c) Latency from produce (the Kafka message timestamp) to committed state, at a fixed offered load of
${n(r.latency.offeredPerSecond)} events/s for ${r.latency.seconds.toFixed(1)} s (${n(r.latency.events)} events): **p50 ${n(r.latency.p50ms)} ms, p99 ${n(r.latency.p99ms)} ms**, max ${n(r.latency.maxMs)} ms.

| target (issue 3) | figure | |
|---|---|---|
| (b) ≥ 50% of (a) | ${(ofRaw * 100).toFixed(0)}% of raw | ${pass(ofRaw >= 0.5)} |
| (b) ≥ 10× naive | ${vsNaive.toFixed(1)}× (b′ ÷ d, same sample) | ${pass(vsNaive >= 10)} |
| (b) ≥ 10,000 events/s | ${n(r.ours.perSecond)} events/s | ${pass(r.ours.perSecond >= 10_000)} |
| p99 < 500 ms at 2,000 events/s | ${n(r.latency.p99ms)} ms | ${pass(r.latency.p99ms < 500)} |

The naive mode runs on a sample because at its rate the full input would take far longer than the
rest of the run; (b′) measures ours on exactly that sample so the ratio compares like with like.

### Why (b) is far from 50% of (a)

The raw drain only counts messages: kafkajs hands over whole fetches and nothing is parsed. Ours, per
event, parses JSON, validates the envelope and the data with zod, and Postgres writes about ten rows
(the inbox row with its payload, the order/ticket/survey row, index entries, the customer upsert and
the recomputed facts) in one transaction per partition batch, fsynced at commit, all on the same two
cores as the broker and the producer. Decoding and validating alone runs at about 180,000 events/s on
one core (measured separately on 200,000 synthetic events, 2026-11-25, same machine), so at the rate of
(b) it costs well under a tenth of a core; the rest of the time goes to Postgres. Ratios to (a)
therefore measure Postgres on this machine more than the consumer. What moved (b): set-based SQL per batch instead of per event (the 10×-naive
target), recomputing only the aspects a batch touched, and two partitions consumed concurrently
(\`INGEST_CONCURRENCY\`). What would move it further: larger batches per transaction across partitions,
unlogged or partitioned inbox storage, or a Postgres on its own cores.

### The engine's cost (known gap)

Since the lifecycle engine (issue 4) and the follow-ups (issue 5) joined the ingest transaction,
each batch also re-evaluates the customers it touched: a second update of each customer row
(stage, predictions, health), the stage transitions with their outbox messages, and an outbox row
for every follow-up the events trigger (a CSAT survey per purchase, an escalation per ticket …),
which the relay then adds to BullMQ on the same two cores. The run of
2026-11-25 15:24 UTC on this machine, before the engine, measured (b) 12,452 events/s and p99
487 ms at 2,000 events/s; with the engine, the figures above. Profiling 60,000 synthetic events
in-process put the engine at about 60% of the transaction time, spread over the customer update,
the transitions and the outbox rows rather than one hot spot. Folding the evaluation into the facts
update, and taking the follow-up fan-out out of the hot path, are the next steps.
`;
}

export interface EngineReport {
  machine: Record<string, string | number>;
  customers: number;
  apply: Rate;
  readInputMs: number;
  fitMs: number;
  refreshMs: number;
  refreshed: number;
  bgNbd: { r: number; alpha: number; a: number; b: number; logLikelihood: number; iterations: number };
  gammaGamma?: { p: number; q: number; gamma: number; sampleSize: number } | undefined;
}

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
| **refit**: BG/NBD + Gamma-Gamma maximum likelihood over ${n(r.customers)} customers | **${(r.fitMs / 1000).toFixed(2)} s** (${(r.fitMs / r.readInputMs).toFixed(1)}× the read) |
| refresh: re-evaluate all ${n(r.refreshed)} customers with the new models | ${(r.refreshMs / 1000).toFixed(2)} s = ${n(r.refreshed / (r.refreshMs / 1000))} customers/s |

Fitted on the whole history to 1998-06-30 (weeks): BG/NBD r ${f(r.bgNbd.r)}, α ${f(r.bgNbd.alpha)}, a ${f(r.bgNbd.a)}, b ${f(r.bgNbd.b)},
log-likelihood ${r.bgNbd.logLikelihood.toFixed(1)} (${r.bgNbd.iterations} Nelder-Mead iterations)${r.gammaGamma ? `; Gamma-Gamma p ${f(r.gammaGamma.p)}, q ${f(r.gammaGamma.q)}, γ ${f(r.gammaGamma.gamma)} over ${n(r.gammaGamma.sampleSize)} repeat buyers` : ""}.
The fit reproduces the published parameters on the 1/10 sample's 39-week calibration (tests in
packages/domain/src/clv and test/lifecycle-engine.e2e.test.ts).
`;
}

interface Sections {
  ingest?: IngestReport;
  engine?: EngineReport;
}
const isSections = (x: unknown): x is Sections => typeof x === "object" && x !== null && !Array.isArray(x);

/**
 * Merges the given sections into the JSON beside the Markdown (so the ingest and the engine
 * benchmarks can run apart) and rewrites the Markdown page from every section present.
 */
export function writeReport(basePath: string, update: Sections): void {
  const parsed: unknown = existsSync(`${basePath}.json`) ? JSON.parse(readFileSync(`${basePath}.json`, "utf8")) : {};
  // Our own file, written by this function: an object of sections.
  const previous = isSections(parsed) ? parsed : {};
  const sections: Sections = { ...previous, ...update };
  writeFileSync(`${basePath}.json`, `${JSON.stringify(sections, null, 2)}\n`);
  const md = [
    "# Benchmarks\n\nProduced by `npm run bench` (bench/*.bench.ts); not part of `npm test`. Each section\nrecords its machine and date; ratios compare figures of the same run.\n",
    sections.ingest ? ingestSection(sections.ingest) : "",
    sections.engine ? engineSection(sections.engine) : "",
  ].filter(Boolean);
  writeFileSync(`${basePath}.md`, md.join("\n"));
}
