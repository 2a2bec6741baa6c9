import { writeFileSync } from "node:fs";

interface Rate {
  events: number;
  seconds: number;
  perSecond: number;
}

export interface BenchReport {
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

/** Writes the figures as JSON and as a Markdown page with the ratios and the issue's targets. */
export function writeReport(r: BenchReport, basePath: string): void {
  writeFileSync(`${basePath}.json`, `${JSON.stringify(r, null, 2)}\n`);
  const ofRaw = r.ours.perSecond / r.raw.perSecond;
  const vsNaive = r.oursOnNaiveSample.perSecond / r.naive.perSecond;
  const md = `# Benchmarks

Produced by \`npm run bench\` (bench/ingest.bench.ts); not part of \`npm test\`. Every figure below
comes from one run on one broker, and the ratios compare figures of that same run.

## Machine and run

| | |
|---|---|
${Object.entries(r.machine).map(([k, v]) => `| ${k} | ${v} |`).join("\n")}

Input: the CDNOW master file (${n(r.input.cdnow)} purchases) plus ${n(r.input.synthetic)} seeded synthetic events
(purchases, refunds, registrations, tickets, surveys) over ${n(r.input.customers)} customers: ${n(r.input.total)} events on
${r.input.topics} topics × ${r.input.partitionsPerTopic} partitions, all produced before consuming (in ${r.input.producedInSeconds.toFixed(1)} s).
The broker, Postgres, Redis, the producer and the consumer share the machine.

## Ingest (issue 3)

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
`;
  writeFileSync(`${basePath}.md`, md);
}
