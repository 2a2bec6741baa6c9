// The ingest section of docs/benchmarks.{md,json}: what bench/ingest.bench.ts measured, and the
// targets of issue 9 judged from those figures (nothing here is a recorded verdict).
import { z } from "zod";
import { fmt as n, mb } from "./format.js";

const Rate = z.object({ events: z.number(), seconds: z.number(), perSecond: z.number() });
/** Consumer-group disruptions in one phase (bench/disruptions.ts counts them). */
const Disruptions = z.object({
  /** "The coordinator is not aware of this member": the group dropped a member it did not hear from. */
  evictions: z.number(),
  /** "The group is rebalancing": a member had to rejoin after the group was complete. */
  rebalances: z.number(),
  /** Consumer crashes (kafkajs restarts the retriable ones itself). */
  crashes: z.number(),
  /** Processes or in-process services that stopped for good and were started again by the bench. */
  restarts: z.number(),
  /** Member ids the broker listed after the group was complete, beyond its replicas (a member that rejoined). */
  extraMembers: z.number(),
});
export type Disruptions = z.infer<typeof Disruptions>;
const Queues = z.object({ peakRedisBytes: z.number(), peakPending: z.number(), finalPending: z.number() });
const Ours = Rate.extend({
  replicas: z.number(),
  wallSeconds: z.number(),
  startupEvents: z.number(),
  recorded: z.number(),
  disruptions: Disruptions,
  queues: Queues,
  /** At the end of the phase: stage changes not yet published, follow-ups waiting in Postgres for their horizon. */
  outbox: z.object({ stageChangesUnpublished: z.number(), followUpsWaiting: z.number(), failed: z.number() }),
  jobOutcomes: z.number(),
});

export const IngestReport = z.object({
  version: z.literal(2),
  machine: z.record(z.string(), z.union([z.string(), z.number()])),
  /** Options of the run, as given; `full` when every count is the default (the published run). */
  run: z.object({ full: z.boolean(), options: z.record(z.string(), z.string()), clock: z.string(), concurrency: z.string(), totalSeconds: z.number() }),
  input: z.object({ cdnow: z.number(), synthetic: z.number(), customers: z.number(), total: z.number(), topics: z.number(), partitionsPerTopic: z.number(), producedInSeconds: z.number() }),
  floor: Rate.extend({ chunk: z.number(), synchronousCommit: z.string(), bareCopy: Rate }),
  raw: Rate.extend({ disruptions: Disruptions }),
  ours1: Ours,
  /** (b₀): ours1 on plain (unpartitioned) inbox and stage history tables; absent from runs before issue 15. */
  ours1Unpartitioned: Ours.optional(),
  ours2: Ours,
  latency: z.object({
    offeredPerSecond: z.number(),
    seconds: z.number(),
    events: z.number(),
    p50ms: z.number(),
    p90ms: z.number(),
    p99ms: z.number(),
    maxMs: z.number(),
    resolutionMs: z.number(),
    unseen: z.number(),
    disruptions: Disruptions,
    queues: Queues,
    delivered: z.object({ jobOutcomes: z.number(), webhooks: z.number(), emails: z.number() }),
  }),
  naive: Rate.extend({ disruptions: Disruptions }),
  oursOnNaiveSample: Rate.extend({ disruptions: Disruptions }),
  redis: z.object({ baselineBytes: z.number(), peakBytes: z.number() }),
  profile: z.object({ command: z.string(), seconds: z.number(), output: z.string() }).optional(),
});
export type IngestReport = z.infer<typeof IngestReport>;

const s1 = (x: number) => x.toFixed(1);
const pass = (ok: boolean) => (ok ? "met" : "**not met**");
const dis = (d: Disruptions) => `${d.evictions} / ${d.rebalances} / ${d.crashes} / ${d.restarts} / ${d.extraMembers}`;
const disTotal = (d: Disruptions) => d.evictions + d.rebalances + d.crashes + d.restarts + d.extraMembers;

function targets(r: IngestReport): string {
  const ofFloor = r.ours1.perSecond / r.floor.perSecond;
  const ofFloor2 = r.ours2.perSecond / r.floor.perSecond;
  const all = [r.raw.disruptions, r.ours1.disruptions, ...(r.ours1Unpartitioned ? [r.ours1Unpartitioned.disruptions] : []), r.latency.disruptions, r.ours2.disruptions, r.naive.disruptions, r.oursOnNaiveSample.disruptions];
  const disruptions = all.reduce((a, d) => a + disTotal(d), 0);
  const rows: [string, string, boolean][] = [
    ["(b) ≥ 10,000 events/s, 1 replica", `${n(r.ours1.perSecond)} events/s`, r.ours1.perSecond >= 10_000],
    ["(b) ≥ 10,000 events/s, 2 replicas", `${n(r.ours2.perSecond)} events/s`, r.ours2.perSecond >= 10_000],
    ["(b) stretch ≥ 25,000 events/s (best of 1 and 2 replicas)", `${n(Math.max(r.ours1.perSecond, r.ours2.perSecond))} events/s`, Math.max(r.ours1.perSecond, r.ours2.perSecond) >= 25_000],
    ["(b) ≥ 0.33 of the Postgres floor, 1 replica", `${ofFloor.toFixed(2)} (2 replicas: ${ofFloor2.toFixed(2)})`, ofFloor >= 0.33],
    [`(c) p99 < 500 ms at ${n(r.latency.offeredPerSecond)} events/s offered, relay and worker running`, `${n(r.latency.p99ms)} ms`, r.latency.p99ms < 500],
    ["0 group evictions or rebalances in the whole run", `${disruptions}`, disruptions === 0],
    ["peak Redis memory < 256 MB", mb(r.redis.peakBytes), r.redis.peakBytes < 256 * 2 ** 20],
  ];
  return `| target (issue 9) | measured | |\n|---|---|---|\n${rows.map(([t, f, ok]) => `| ${t} | ${f} | ${pass(ok)} |`).join("\n")}`;
}

function phases(r: IngestReport): string {
  const o = (label: string, x: IngestReport["ours1"]) =>
    `| ${label} | ${n(x.events)} | ${s1(x.seconds)} | **${n(x.perSecond)}** | ${(x.perSecond / r.floor.perSecond).toFixed(2)} | ${(x.perSecond / r.raw.perSecond).toFixed(3)} | ${(x.perSecond / r.naive.perSecond).toFixed(1)}× |`;
  return `| phase | events | seconds | events/s | ÷ floor | ÷ raw | ÷ naive |
|---|---:|---:|---:|---:|---:|---:|
| floor: COPY 2,000 a transaction into staging, insert once into an inbox-shaped table, upsert count/sum/max per customer (one session) | ${n(r.floor.events)} | ${s1(r.floor.seconds)} | ${n(r.floor.perSecond)} | 1 | | |
| floor context: bare COPY of the inbox rows, 2,000 a transaction | ${n(r.floor.bareCopy.events)} | ${s1(r.floor.bareCopy.seconds)} | ${n(r.floor.bareCopy.perSecond)} | | | |
| (a) raw: a do-nothing kafkajs consumer draining the input | ${n(r.raw.events)} | ${s1(r.raw.seconds)} | ${n(r.raw.perSecond)} | | 1 | |
${o("(b) ours, 1 ingest replica (a process running the ingest main)", r.ours1)}
${r.ours1Unpartitioned ? `${o("(b₀) the same, with inbox_events and stage_transitions as plain tables (before partitioning; fresh database, topics and group)", r.ours1Unpartitioned)}\n` : ""}${o("(b) ours, 2 ingest replicas (two processes, one group; fresh database, topics and group)", r.ours2)}
| (d) naive: the ingest service, one transaction per event (in-process, on a sample) | ${n(r.naive.events)} | ${s1(r.naive.seconds)} | ${n(r.naive.perSecond)} | | | 1 |
| (b′) ours in-process on that same sample (batch mode) | ${n(r.oursOnNaiveSample.events)} | ${s1(r.oursOnNaiveSample.seconds)} | ${n(r.oursOnNaiveSample.perSecond)} | | | ${(r.oursOnNaiveSample.perSecond / r.naive.perSecond).toFixed(1)}× |

2 replicas ÷ 1 replica: **${(r.ours2.perSecond / r.ours1.perSecond).toFixed(2)}**.${r.ours1Unpartitioned ? ` (b) ÷ (b₀): ${(r.ours1.perSecond / r.ours1Unpartitioned.perSecond).toFixed(2)}; (b₀) ran
after (b) and (c), and on this host the first of two long phases tends to run faster whichever it is
(\`--unpartitioned-first\` runs (b₀) first): the partitioning section measures the same comparison
interleaved batch by batch.` : ""} (b) counts from the moment the consumer group was
complete (every replica a member) to the moment every offset was committed; events a replica committed
before the group was complete are left out (${n(r.ours1.startupEvents)} with 1 replica, ${n(r.ours2.startupEvents)} with 2). From process start, start-up
included: ${s1(r.ours1.wallSeconds)} s and ${s1(r.ours2.wallSeconds)} s. Postgres had recorded ${n(r.ours1.recorded)} and ${n(r.ours2.recorded)} event ids afterwards.`;
}

function queuesAndGroups(r: IngestReport): string {
  const q = (label: string, x: z.infer<typeof Queues>) => `| ${label} | ${mb(x.peakRedisBytes)} | ${n(x.peakPending)} | ${n(x.finalPending)} |`;
  const d = (label: string, x: Disruptions) => `| ${label} | ${dis(x)} |`;
  return `Redis \`used_memory\` (the whole server) was ${mb(r.redis.baselineBytes)} before the run and peaked at **${mb(r.redis.peakBytes)}**.
Pending follow-up jobs are waiting + prioritized + delayed + active across the three follow-up queues of the phase, sampled every second.

| phase | peak Redis | peak pending jobs | pending at the end |
|---|---:|---:|---:|
${q("(b) 1 replica", r.ours1.queues)}
${q("(c) latency", r.latency.queues)}
${r.ours1Unpartitioned ? `${q("(b₀) unpartitioned", r.ours1Unpartitioned.queues)}\n` : ""}${q("(b) 2 replicas", r.ours2.queues)}

At the end of (b): follow-ups waiting in Postgres until due within the relay's horizon ${n(r.ours1.outbox.followUpsWaiting)} (1 replica) and
${n(r.ours2.outbox.followUpsWaiting)} (2 replicas); stage changes not yet published ${n(r.ours1.outbox.stageChangesUnpublished)} and ${n(r.ours2.outbox.stageChangesUnpublished)};
outbox rows marked failed ${n(r.ours1.outbox.failed)} and ${n(r.ours2.outbox.failed)}; follow-up outcomes recorded ${n(r.ours1.jobOutcomes)} and ${n(r.ours2.jobOutcomes)}.

Group disruptions per phase: evictions ("the coordinator is not aware of this member") / rebalances after the group was
complete / consumer crashes / replicas restarted by the bench / extra member ids the broker listed (a member that rejoined).

| phase | evictions / rebalances / crashes / restarts / extra members |
|---|---|
${d("(a) raw", r.raw.disruptions)}
${d("(b) 1 replica", r.ours1.disruptions)}
${d("(c) latency", r.latency.disruptions)}
${r.ours1Unpartitioned ? `${d("(b₀) unpartitioned", r.ours1Unpartitioned.disruptions)}\n` : ""}${d("(b) 2 replicas", r.ours2.disruptions)}
${d("(d) naive", r.naive.disruptions)}
${d("(b′) ours on the sample", r.oursOnNaiveSample.disruptions)}`;
}

function latency(r: IngestReport): string {
  const l = r.latency;
  return `Right after (b) with 1 replica, on the same database, with the ingest process (its relay on) and the worker process
(follow-up jobs, its stage sweep every 5 s and its own relay; webhook and e-mail channels pointed at loopback sinks) running:
${n(l.offeredPerSecond)} events/s offered for ${s1(l.seconds)} s (${n(l.events)} events, new customers).
**p50 ${n(l.p50ms)} ms, p90 ${n(l.p90ms)} ms, p99 ${n(l.p99ms)} ms**, max ${n(l.maxMs)} ms.
Produce time is each message's Kafka timestamp; the commit time is the first poll of the group's committed offsets
that covered the message (the service commits offsets only after the batch's transaction, stage included). The offsets
were polled every ${s1(l.resolutionMs)} ms on average, so each figure is late by at most that plus a round trip.${l.unseen ? ` ${n(l.unseen)} messages were never seen committed.` : ""}
While it ran and until it drained, the worker recorded ${n(l.delivered.jobOutcomes)} follow-up outcomes in all;
the sinks received ${n(l.delivered.webhooks)} webhooks and ${n(l.delivered.emails)} e-mails.`;
}

function profile(r: IngestReport): string {
  if (!r.profile) return "Not run in this bench run; `npm run bench:profile` prints it (bench/apply.profile.ts).";
  return `\`${r.profile.command}\` (bench/apply.profile.ts: the ingest transaction alone, in-process, no broker), run as the
bench's last phase (${s1(r.profile.seconds)} s):

\`\`\`
${r.profile.output.trim()}
\`\`\``;
}

export function ingestSection(r: IngestReport): string {
  return `## Ingest (issue 9)

Produced by bench/ingest.bench.ts (\`npm run bench\`). Every figure in this section comes from one run on one broker, and
every ratio and verdict is computed from figures of that same run.${r.run.full ? "" : "\n\n**A development run with non-default options: not the published figures.**"}

### Machine and run

| | |
|---|---|
${Object.entries(r.machine).map(([k, v]) => `| ${k} | ${v} |`).join("\n")}
| options | ${Object.entries(r.run.options).map(([k, v]) => `--${k} ${v}`).join(" ") || "(defaults)"} |
| clock | ${r.run.clock} (the demo's: event time, as when replaying history) |
| ingest concurrency | ${r.run.concurrency} |
| whole run | ${n(r.run.totalSeconds / 60)} min |

Input: the CDNOW master file (${n(r.input.cdnow)} purchases) plus ${n(r.input.synthetic)} seeded synthetic events over ${n(r.input.customers)}
customers: ${n(r.input.total)} events on ${r.input.topics} topics × ${r.input.partitionsPerTopic} partitions, produced before consuming (in ${s1(r.input.producedInSeconds)} s).
Kafka, Postgres (synchronous_commit ${r.floor.synchronousCommit}), Redis, the services and the bench share the machine. The worker
process runs beside the ingest replicas in every (b) and (c) phase.

### Targets

${targets(r)}

### Throughput

${phases(r)}

### Latency (c)

${latency(r)}

### Redis, pending jobs, consumer group

${queuesAndGroups(r)}

### Where the milliseconds of a batch go

${profile(r)}
`;
}
