// `npm run bench` (third part): what partitioning the inbox and the stage history costs the ingest
// transaction (issue 15), measured so that the host's drift cannot decide it. Two databases, one
// partitioned (the migrations) and one with inbox_events and stage_transitions as plain tables
// (bench/unpartitioned.ts), get the same events in the same batches of 1,000, interleaved batch by
// batch (who goes first alternates), each through applyEvents: the ingest's own transaction
// (dedupe, facts, evaluation, outbox) without the broker. Every batch of the CDNOW master file and a
// seeded synthetic mix spans 1997-98, so each one touches all 18 month partitions: the worst case.
// Then the same for as many events of this month (live traffic: one partition). The (b) and (b₀) phases of the ingest section are the same
// comparison with the services running, one phase after the other.
// Writes the `partitioning` section of docs/benchmarks.{md,json}.
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { performance } from "node:perf_hooks";
import { execFileSync } from "node:child_process";
import { createDatabase, createPool, dropDatabase, ensureMonthPartition, migrate, monthStart, PARTITIONED_TABLES, type Pool } from "@lifecycle/db";
import { createClock } from "@lifecycle/engine";
import { LifecycleEvent, syntheticEvents } from "@lifecycle/events";
import { applyEvents, createApplyDeps } from "@lifecycle/pipeline";
import { benchInput, cdnowEvents } from "./input.js";
import { describeMachine } from "./machine.js";
import { writeReport } from "./report.js";
import { unpartition } from "./unpartitioned.js";

const { values: args } = parseArgs({ options: { synthetic: { type: "string", default: "130000" }, out: { type: "string" } } });
const root = fileURLToPath(new URL("../", import.meta.url));
const say = (m: string) => console.log(`[bench:partitioning] ${m}`);
const BATCH = 1_000;
const run = Date.now().toString(36);

interface Side {
  name: "partitioned" | "unpartitioned";
  url: string;
  pool: Pool;
  deps: ReturnType<typeof createApplyDeps>;
  ms: number;
}

const sides: Side[] = [];
const cleanUp = async () => {
  for (const s of sides.splice(0)) {
    await s.pool.end().catch(() => undefined);
    await dropDatabase(s.url).catch(() => undefined);
  }
};

async function side(name: Side["name"], label: string, months: readonly Date[]): Promise<Side> {
  const url = `postgres://postgres@127.0.0.1:5432/lifecycle_bench_partitioning_${run}_${label}_${name}`;
  await createDatabase(url);
  const pool = createPool({ connectionString: url, max: 2 });
  const s: Side = { name, url, pool, deps: createApplyDeps({ pool, rates: { USD: "1", EUR: "1.08", GBP: "1.27" }, clock: createClock({ mode: "watermark" }), modelCacheMs: 0 }), ms: 0 };
  sides.push(s);
  await migrate({ databaseUrl: url });
  if (name === "unpartitioned") await unpartition(pool);
  // The months of the input have their partitions, as after the worker's first retention run.
  else for (const month of months) for (const table of PARTITIONED_TABLES) await ensureMonthPartition(pool, table, month);
  return s;
}

/** The same events in the same batches to both, interleaved batch by batch; the time each spent in applyEvents. */
async function compare(label: string, events: readonly LifecycleEvent[]) {
  const months = [...new Set(events.map((e) => monthStart(new Date(e.time)).getTime()))].map((t) => new Date(t));
  const partitioned = await side("partitioned", label, months);
  const unpartitioned = await side("unpartitioned", label, months);
  const t0 = performance.now();
  for (let i = 0, round = 0; i < events.length; i += BATCH, round++) {
    const batch = events.slice(i, i + BATCH).map((event, j) => ({ event, topic: "bench", partition: 0, offset: i + j }));
    for (const s of round % 2 === 0 ? [partitioned, unpartitioned] : [unpartitioned, partitioned]) {
      const t = performance.now();
      await applyEvents(s.deps, batch);
      s.ms += performance.now() - t;
    }
    if (round % 50 === 49) say(`${label}: ${i + batch.length} of ${events.length} events applied to both (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  }
  const rate = (s: Side) => ({ events: events.length, seconds: s.ms / 1000, perSecond: events.length / (s.ms / 1000) });
  const result = { months: months.length, partitioned: rate(partitioned), unpartitioned: rate(unpartitioned) };
  say(`${label}: partitioned ${result.partitioned.perSecond.toFixed(0)}/s, unpartitioned ${result.unpartitioned.perSecond.toFixed(0)}/s: ratio ${(result.partitioned.perSecond / result.unpartitioned.perSecond).toFixed(3)}`);
  await cleanUp();
  return result;
}

say(execFileSync("bash", [`${root}infra/local-infra.sh`, "services"], { encoding: "utf8" }).trim().split("\n").join("; "));
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => void cleanUp().finally(() => process.exit(130)));
try {
  const count = Number(args.synthetic);
  // History: the ingest bench's input, shorter (CDNOW, then the synthetic mix over 1997-98).
  const history = await compare("history", [...benchInput(cdnowEvents(`${root}../shared/data/cdnow/CDNOW_master.txt`), { count, customers: 30_000 })].map((e) => LifecycleEvent.parse(e)));
  // Live: as many synthetic events, all in this month so far.
  const now = new Date();
  const live = await compare("live", [...syntheticEvents({ seed: 2, customers: 30_000, count: history.partitioned.events, start: monthStart(now), end: now, prefix: "live-" })].map((e) => LifecycleEvent.parse(e)));
  const out = args.out ?? `${root}docs/benchmarks`;
  writeReport(out, { partitioning: { machine: describeMachine({ postgres: "local", clock: "watermark" }), batch: BATCH, history, live } });
  say(`wrote the partitioning section of ${out}.md and ${out}.json`);
} finally {
  await cleanUp();
}
