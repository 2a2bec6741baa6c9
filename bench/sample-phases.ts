// The phases that run inside the bench process: (a) the raw drain, (d) the naive per-event ingest
// and (b′) the batch ingest on the same sample, and the statement profile (bench/apply.profile.ts,
// as a child process).
import { spawn } from "node:child_process";
import pg from "pg";
import { createPool } from "@lifecycle/db";
import type { InputTopics } from "@lifecycle/events";
import { createLogger } from "@lifecycle/logging";
import { benchDatabase, countRecorded, DEFAULT_INGEST_CONCURRENCY, outputTopicsFor, phaseTimeoutMs, withTimeout, type BenchContext } from "./context.js";
import { countDisruptions } from "./disruptions.js";
import { fmt } from "./format.js";
import { followGroup } from "./group-follow.js";
import { rawDrain, startInProcessIngest } from "./in-process.js";
import type { IngestReport } from "./ingest-report.js";
import { disruptionLine } from "./service-phases.js";

export async function rawPhase(ctx: BenchContext, topics: InputTopics, expected: number): Promise<IngestReport["raw"]> {
  await ctx.sampler.setPhase("(a) raw");
  const t0 = Date.now();
  const groupId = `bench-${ctx.run}-raw`;
  const drain = rawDrain({ kafka: ctx.kafka, groupId, topics: Object.values(topics), concurrency: ctx.opts.concurrency ?? DEFAULT_INGEST_CONCURRENCY, teardown: ctx.teardown, say: ctx.say });
  const r = await withTimeout(drain, phaseTimeoutMs(ctx, expected), `(a) the raw drain did not finish within the phase's limit`);
  const disruptions = countDisruptions(ctx.inProcessLog, t0, Date.now(), { restarts: r.restarts });
  ctx.say(`(a) raw drain: ${fmt(r.events)} in ${r.seconds.toFixed(1)} s = ${fmt(r.events / r.seconds)}/s; ${disruptionLine(disruptions)}`);
  return { events: r.events, seconds: r.seconds, perSecond: r.events / r.seconds, disruptions };
}

/** (d) or (b′): the ingest service in-process over `topics` (the sample) on a fresh database and group. */
export async function inProcessPhase(ctx: BenchContext, { name, label, topics, mode, expected }: { name: string; label: string; topics: InputTopics; mode: "batch" | "per-event"; expected: number }) {
  const groupId = `bench-${ctx.run}-${name}`;
  const prefix = `bench-${ctx.run}-${name}`;
  const out = await outputTopicsFor(ctx, name);
  const db = await benchDatabase(ctx, name);
  const pool = createPool({ connectionString: db.url, max: 10, applicationName: "bench-in-process-ingest" });
  const closePool = ctx.teardown.add(`close the in-process ingest pool (${name})`, () => pool.end());
  await ctx.sampler.setPhase(label, prefix);
  const logger = createLogger({ name: "bench", level: "warn", pretty: false });
  const ingest = await startInProcessIngest({
    kafka: ctx.kafka, pool, redisUrl: ctx.redisUrl, prefix, logger, groupId, topics: Object.values(topics), dlqTopic: out.dlq, stageChangedTopic: out.stageChanged,
    partitions: ctx.opts.partitions, concurrency: ctx.opts.concurrency ?? DEFAULT_INGEST_CONCURRENCY, mode, teardown: ctx.teardown, say: ctx.say,
  });
  const f = await followGroup({
    admin: ctx.admin, groupId, topics: Object.values(topics), label, replicas: 1, timeoutMs: phaseTimeoutMs(ctx, expected * 20), say: ctx.say, stopping: () => ctx.teardown.stopping,
  });
  await ingest.stop();
  await closePool();
  const recorded = await countRecorded(db.pool);
  if (recorded !== expected) throw new Error(`${label}: the group committed every offset but Postgres holds ${recorded} inbox events, not ${expected}`);
  await db.drop();
  const disruptions = countDisruptions(ctx.inProcessLog, f.completeAt, f.endAt, { restarts: ingest.restarts(), extraMembers: Math.max(0, f.membersSeen - 1) });
  ctx.say(`${label}: ${fmt(f.events)} in ${f.seconds.toFixed(1)} s = ${fmt(f.events / f.seconds)}/s; ${disruptionLine(disruptions)}`);
  return { events: f.events, seconds: f.seconds, perSecond: f.events / f.seconds, disruptions };
}

const PROFILE_DB = /^lifecycle_profile_([0-9a-z]+)$/;

async function profileDatabases(ctx: BenchContext): Promise<string[]> {
  const client = new pg.Client({ connectionString: `${ctx.pgServer}/postgres`, application_name: "bench" });
  await client.connect();
  try {
    return (await client.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname LIKE 'lifecycle_profile_%'")).rows.map((r) => r.datname);
  } finally {
    await client.end();
  }
}

/**
 * `npm run bench:profile` as a child process. It makes and drops a database of its own; if the
 * bench stops it half-way, the database it made (found by its name, which carries its creation
 * time, among those that appeared after the child started) is dropped here.
 */
export async function profilePhase(ctx: BenchContext): Promise<NonNullable<IngestReport["profile"]>> {
  await ctx.sampler.setPhase("profile");
  const args = ["--events", String(ctx.opts.profileEvents)];
  const before = new Set(await profileDatabases(ctx));
  const t0 = Date.now();
  const child = spawn(process.execPath, ["--import", "tsx", `${ctx.root}bench/apply.profile.ts`, ...args], { cwd: ctx.root, stdio: ["ignore", "pipe", "pipe"] });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const createdAt = (d: string) => parseInt(PROFILE_DB.exec(d)?.[1] ?? "0", 36);
  // Ours is the first to appear after the child started (another profile started later is not).
  const theirs = async () => (await profileDatabases(ctx)).filter((d) => !before.has(d) && createdAt(d) >= t0 - 1_000).sort((a, b) => createdAt(a) - createdAt(b));
  const release = ctx.teardown.add("stop the profile and drop its database", async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGKILL");
      await exited;
    }
    const client = new pg.Client({ connectionString: `${ctx.pgServer}/postgres`, application_name: "bench" });
    await client.connect();
    for (const d of (await theirs()).slice(0, 1)) await client.query(`DROP DATABASE IF EXISTS "${d}" WITH (FORCE)`);
    await client.end();
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const progress = setInterval(() => ctx.say(`(profile) running for ${Math.round((Date.now() - t0) / 1000)} s`), 5_000);
  try {
    const code = await withTimeout(exited, 600_000, "the profile did not finish within 10 min");
    if (code !== 0) throw new Error(`the profile exited with ${code}:\n${output}`);
  } finally {
    clearInterval(progress);
    await release();
  }
  const seconds = (Date.now() - t0) / 1000;
  ctx.say(`(profile) done in ${seconds.toFixed(1)} s:\n${output.trim()}`);
  return { command: `npm run bench:profile -- ${args.join(" ")}`, seconds, output };
}
