// (b) and (c): the services as users run them. The worker main (follow-up jobs, stage sweep, its
// own relay) and N ingest mains (engine, follow-ups and relay on) run as processes on a fresh
// database, consuming the phase's input topics as one group; (c) then offers a fixed load to the
// same processes and measures produce → committed state.
import type { Pool } from "@lifecycle/db";
import type { InputTopics } from "@lifecycle/events";
import { benchDatabase, countRecorded, outboxFigures, outputTopicsFor, phaseTimeoutMs, type BenchContext, type BenchDatabase } from "./context.js";
import { countDisruptions, disruptionsInFiles } from "./disruptions.js";
import { followGroup, memberIds } from "./group-follow.js";
import { synthetic } from "./input.js";
import { endOffsets, latenciesOf, quantile, readBack, trackCommits } from "./latency.js";
import { produceAtRate } from "./offered-load.js";
import { startProcess, startReplicas, type BenchProcess, type ReplicaSet } from "./processes.js";
import { fmt, mb } from "./format.js";
import type { Disruptions, IngestReport } from "./ingest-report.js";

interface Running {
  db: BenchDatabase;
  groupId: string;
  prefix: string;
  topics: InputTopics;
  worker: BenchProcess;
  replicas: ReplicaSet;
  replicaCount: number;
}

function serviceEnv(ctx: BenchContext, r: { url: string; prefix: string; groupId: string; topics: InputTopics; dlq: string; stageChanged: string }): NodeJS.ProcessEnv {
  return {
    ...process.env,
    DATABASE_URL: r.url,
    KAFKA_BROKERS: `127.0.0.1:${ctx.port}`,
    KAFKA_CLIENT_ID: `bench-${ctx.run}`,
    REDIS_URL: ctx.redisUrl,
    QUEUE_PREFIX: r.prefix,
    INPUT_TOPICS: Object.values(r.topics).join(","),
    DLQ_TOPIC: r.dlq,
    STAGE_CHANGED_TOPIC: r.stageChanged,
    INGEST_GROUP_ID: r.groupId,
    TOPIC_PARTITIONS: String(ctx.opts.partitions),
    // The demo's settings: replayed history runs on the event-time clock, the sweep every 5 s.
    LIFECYCLE_CLOCK: "watermark",
    SWEEP_INTERVAL_MS: String(ctx.opts.sweepMs),
    LOG_LEVEL: "info",
    PROBE_PORT: "-1",
    WEBHOOK_URL: ctx.sinks.webhookUrl,
    WEBHOOK_SECRET: `bench-${ctx.run}-webhook-secret`,
    SMTP_URL: ctx.sinks.smtpUrl,
    ...(ctx.opts.concurrency === undefined ? {} : { INGEST_CONCURRENCY: String(ctx.opts.concurrency) }),
    ...(ctx.opts.playbooks === undefined ? {} : { PLAYBOOKS: ctx.opts.playbooks }),
  };
}

const extra = (ctx: BenchContext) => () => {
  const { redisBytes, pending } = ctx.sampler.latest();
  return `Redis ${mb(redisBytes)}, ${fmt(pending)} jobs pending`;
};

/** (b): starts the worker, then `replicas` ingest processes, and follows the group to the end of the input. */
export async function oursPhase(
  ctx: BenchContext,
  { name, label, topics, replicas, expected, prepare }: { name: string; label: string; topics: InputTopics; replicas: number; expected: number; prepare?: (pool: Pool) => Promise<void> },
) {
  const groupId = `bench-${ctx.run}-${name}`;
  const prefix = `bench-${ctx.run}-${name}`;
  const out = await outputTopicsFor(ctx, name);
  const db = await benchDatabase(ctx, name);
  await prepare?.(db.pool);
  const env = serviceEnv(ctx, { url: db.url, prefix, groupId, topics, ...out });
  await ctx.sampler.setPhase(label, prefix);
  const logDir = `${ctx.logDir}/${name}`;
  const common = { env, logDir, cwd: ctx.root, say: ctx.say };
  const worker = await startProcess({ ...common, name: "worker", entry: `${ctx.root}services/worker/src/main.ts`, readyMessage: "worker running" }, ctx.teardown);
  const spawnedAt = Date.now();
  const set = await startReplicas({ ...common, name: "ingest", entry: `${ctx.root}services/ingest/src/main.ts`, readyMessage: "ingest running" }, replicas, ctx.teardown);
  ctx.say(`${label}: worker and ${replicas} ingest process(es) running; logs in ${logDir}`);
  const f = await followGroup({
    admin: ctx.admin, groupId, topics: Object.values(topics), label, replicas, timeoutMs: phaseTimeoutMs(ctx, expected), say: ctx.say, extra: extra(ctx),
    stopping: () => ctx.teardown.stopping, hint: `the logs in ${logDir}`,
  });
  await ctx.sampler.sampleNow();
  const recorded = await countRecorded(db.pool);
  if (recorded !== expected) throw new Error(`${label}: the group committed every offset but Postgres has recorded ${recorded} event ids, not ${expected}`);
  const disruptions = countDisruptions(disruptionsInFiles(set.logFiles()), f.completeAt, f.endAt, { restarts: set.restarts(), extraMembers: Math.max(0, f.membersSeen - replicas) });
  const queues = ctx.sampler.phase(label) ?? { peakRedisBytes: Number.NaN, peakPending: Number.NaN, finalPending: Number.NaN };
  const figures = {
    events: f.events, seconds: f.seconds, perSecond: f.events / f.seconds, replicas, wallSeconds: (f.endAt - spawnedAt) / 1000, startupEvents: f.startupEvents, recorded, disruptions, queues,
    ...(await outboxFigures(db.pool)),
  } satisfies IngestReport["ours1"];
  ctx.say(`${label}: ${fmt(f.events)} events in ${f.seconds.toFixed(1)} s = ${fmt(figures.perSecond)}/s (Postgres holds all ${fmt(recorded)}); ${disruptionLine(disruptions)}`);
  const running: Running = { db, groupId, prefix, topics, worker, replicas: set, replicaCount: replicas };
  return { figures, running };
}

export const disruptionLine = (d: Disruptions) => `evictions ${d.evictions}, rebalances ${d.rebalances}, crashes ${d.crashes}, restarts ${d.restarts}, extra members ${d.extraMembers}`;

/** Stops the phase's processes and drops its database. */
export async function endPhase(r: Running): Promise<void> {
  await r.replicas.stop();
  await r.worker.stop();
  await r.db.drop();
}

/** (c): a fixed offered load to the running services, right after (b), on the same database. */
export async function latencyPhase(ctx: BenchContext, r: Running, label: string): Promise<IngestReport["latency"]> {
  const { latencyRate: rate, latencySeconds } = ctx.opts;
  const count = rate * latencySeconds;
  const topics = Object.values(r.topics);
  await ctx.sampler.setPhase(label, r.prefix);
  const from = await endOffsets(ctx.admin, topics);
  const before = await memberIds(ctx.admin, r.groupId);
  const restartsBefore = r.replicas.restarts();
  const outcomesBefore = (await outboxFigures(r.db.pool)).jobOutcomes;
  const recordedBefore = await countRecorded(r.db.pool);
  const sinksBefore = ctx.sinks.received();
  const tracker = trackCommits(ctx.admin, r.groupId, topics);
  const t0 = Date.now();
  let lastPrint = t0;
  const seconds = await produceAtRate(ctx.kafka, r.topics, synthetic({ count, customers: ctx.opts.customers, prefix: "lat-", seed: 2 }), rate, (sent) => {
    if (Date.now() - lastPrint < 5_000) return;
    lastPrint = Date.now();
    ctx.say(`${label} ${fmt(sent)}/${fmt(count)} events offered at ${fmt(rate)}/s, ${extra(ctx)()}`);
  });
  const base = [...from.values()].reduce((a, b) => a + b, 0);
  const drained = await followGroup({
    admin: ctx.admin, groupId: r.groupId, topics, label: `${label} draining`, replicas: r.replicaCount, timeoutMs: phaseTimeoutMs(ctx, count), say: ctx.say,
    extra: extra(ctx), stopping: () => ctx.teardown.stopping, base, hint: r.replicas.logFiles().join(", "),
  });
  const end = Date.now();
  const { history, meanIntervalMs } = await tracker.stop();
  const recorded = (await countRecorded(r.db.pool)) - recordedBefore;
  if (recorded !== count) throw new Error(`${label}: the group committed every offset but Postgres recorded ${recorded} of the ${count} events offered`);
  await ctx.sampler.sampleNow();
  const messages = await readBack(ctx.kafka, ctx.admin, topics, from, `bench-${ctx.run}-readback`);
  const { latencies, unseen } = latenciesOf(messages, history);
  const members = await memberIds(ctx.admin, r.groupId);
  const extraMembers = [...members].filter((m) => !before.has(m)).length;
  const disruptions = countDisruptions(disruptionsInFiles(r.replicas.logFiles()), t0, Math.max(end, drained.endAt), { restarts: r.replicas.restarts() - restartsBefore, extraMembers });
  const sinks = ctx.sinks.received();
  const result = {
    offeredPerSecond: rate, seconds, events: latencies.length, p50ms: quantile(latencies, 0.5), p90ms: quantile(latencies, 0.9), p99ms: quantile(latencies, 0.99), maxMs: latencies.at(-1) ?? Number.NaN,
    resolutionMs: meanIntervalMs, unseen, disruptions,
    queues: ctx.sampler.phase(label) ?? { peakRedisBytes: Number.NaN, peakPending: Number.NaN, finalPending: Number.NaN },
    delivered: { jobOutcomes: (await outboxFigures(r.db.pool)).jobOutcomes - outcomesBefore, webhooks: sinks.webhooks - sinksBefore.webhooks, emails: sinks.emails - sinksBefore.emails },
  };
  ctx.say(`${label}: ${fmt(latencies.length)} events, p50 ${fmt(result.p50ms)} ms, p90 ${fmt(result.p90ms)} ms, p99 ${fmt(result.p99ms)} ms, max ${fmt(result.maxMs)} ms (offsets polled every ${meanIntervalMs.toFixed(1)} ms); ${disruptionLine(disruptions)}`);
  return result;
}
