// `npm run bench:profile`: where the milliseconds of a typical ingest batch go. Applies seeded
// synthetic events in batches (no broker: the transaction alone) to a database of its own, timing
// every statement by the first words of its SQL, and prints the share of each. The figures are
// what docs/benchmarks.md's profile section quotes.
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import pg from "pg";
import { createDatabase, createPool, dropDatabase, migrate } from "@lifecycle/db";
import { createClock } from "@lifecycle/engine";
import { syntheticEvents } from "@lifecycle/events";
import { applyEvents, createApplyDeps, type AcceptedEvent } from "@lifecycle/pipeline";

const { values: opts } = parseArgs({
  options: {
    events: { type: "string", default: "100000" },
    customers: { type: "string", default: "20000" },
    batch: { type: "string", default: "1000" },
    clock: { type: "string", default: "wall" },
    /** Input partitions applied at once (events split by customer, as Kafka keys them). */
    partitions: { type: "string", default: "1" },
    /** After the run, EXPLAIN ANALYZE the last statement whose label starts so (rolled back). */
    explain: { type: "string" },
  },
});
const EVENTS = Number(opts.events);
const BATCH = Number(opts.batch);

/** A label per statement: the first few words, the table or CTE it works on. */
function label(sql: string): string {
  const s = sql.replace(/\s+/g, " ").trim();
  const m = /^(WITH \w+|INSERT INTO \w+|UPDATE \w+|SELECT [^ ]+(?: [^ ]+)?|DELETE FROM \w+|BEGIN|COMMIT|ROLLBACK)/i.exec(s);
  return m?.[1] ?? s.slice(0, 30);
}

const spent = new Map<string, { ms: number; n: number }>();
const lastCall = new Map<string, { text: string; values: unknown[] | undefined }>();
/* eslint-disable @typescript-eslint/consistent-type-assertions, @typescript-eslint/no-explicit-any, @typescript-eslint/unbound-method --
   profiling only: the driver's overloaded query() is wrapped once, untyped, so every statement of
   the real code is timed without a line of it changing. */
const original = pg.Client.prototype.query;
pg.Client.prototype.query = function (this: pg.Client, ...args: any[]): any {
  const text: unknown = typeof args[0] === "string" ? args[0] : (args[0] as { text?: unknown } | undefined)?.text;
  const t0 = performance.now();
  const key = typeof text === "string" ? label(text) : "?";
  if (typeof text === "string") lastCall.set(key, { text, values: Array.isArray(args[1]) ? args[1] : undefined });
  const result: unknown = original.apply(this, args as Parameters<typeof original>);
  const done = () => {
    const e = spent.get(key) ?? { ms: 0, n: 0 };
    e.ms += performance.now() - t0;
    e.n += 1;
    spent.set(key, e);
  };
  if (result instanceof Promise) void result.then(done, done);
  return result;
} as typeof original;
/* eslint-enable @typescript-eslint/consistent-type-assertions, @typescript-eslint/no-explicit-any, @typescript-eslint/unbound-method */

/**
 * What the applied events occupy on disk (tables, indexes and TOAST after a VACUUM), per event
 * and per customer: the README's Postgres sizing figures.
 */
async function printStorage(pool: pg.Pool, events: number): Promise<void> {
  await pool.query("VACUUM ANALYZE");
  const { rows: [db] = [] } = await pool.query<{ bytes: string; customers: number }>("SELECT pg_database_size(current_database())::text AS bytes, (SELECT count(*)::int FROM customers) AS customers");
  const { rows: tables } = await pool.query<{ name: string; bytes: string }>(
    "SELECT c.relname AS name, pg_total_relation_size(c.oid)::text AS bytes FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY pg_total_relation_size(c.oid) DESC LIMIT 6",
  );
  if (!db) return;
  const mb = (b: string | number) => (Number(b) / 1_048_576).toFixed(1);
  console.log(`storage: ${mb(db.bytes)} MB for ${events} events and ${db.customers} customers = ${Math.round(Number(db.bytes) / events)} bytes an event (an empty, migrated database included)`);
  console.log(`largest tables (with indexes): ${tables.map((t) => `${t.name} ${mb(t.bytes)} MB`).join(", ")}`);
}

/**
 * CPU time of this run's Postgres backends (Linux /proc, same machine), read before the pool
 * closes them: the server's share of the work, apart from whatever else the server is doing.
 */
async function backendCpu(pool: pg.Pool): Promise<number | undefined> {
  const r = await pool.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE datname = current_database()");
  const ticks = await Promise.all(
    r.rows.map(async ({ pid }) => {
      const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => undefined);
      const fields = stat?.slice(stat.lastIndexOf(")") + 2).split(" ");
      return fields ? Number(fields[11]) + Number(fields[12]) : Number.NaN;
    }),
  );
  const sum = ticks.reduce((a, b) => a + b, 0);
  return Number.isFinite(sum) ? sum * 10 : undefined; // USER_HZ is 100 on Linux
}
let cpuAtStart = process.cpuUsage();
const nodeCpuMs = () => {
  const u = process.cpuUsage(cpuAtStart);
  return (u.user + u.system) / 1000;
};

const url = `postgres://postgres@127.0.0.1:5432/lifecycle_profile_${Date.now().toString(36)}`;
await createDatabase(url);
// Ctrl-C (or a supervisor's TERM) must not leave the profile's database behind.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void dropDatabase(url).finally(() => process.exit(130));
  });
}
const pool = createPool({ connectionString: url, max: 4 });
try {
  await migrate({ databaseUrl: url });
  const clock = createClock({ mode: opts.clock === "watermark" ? "watermark" : "wall" });
  const deps = createApplyDeps({ pool, rates: { USD: "1" }, clock });
  // The year up to now, as live traffic is: follow-ups are written live, not skipped as expired.
  const end = new Date();
  const events = [...syntheticEvents({ seed: 7, customers: Number(opts.customers), count: EVENTS, start: new Date(end.getTime() - 365 * 86_400_000), end })];
  const partitions = Number(opts.partitions);
  const streams: AcceptedEvent[][] = Array.from({ length: partitions }, () => []);
  for (const event of events) {
    const p = [...event.subject].reduce((h, ch) => (h * 31 + ch.charCodeAt(0)) >>> 0, 7) % partitions;
    const stream = streams[p] ?? [];
    stream.push({ event, topic: "profile", partition: p, offset: stream.length });
  }
  spent.clear();
  cpuAtStart = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    streams.map(async (stream) => {
      for (let i = 0; i < stream.length; i += BATCH) await applyEvents(deps, stream.slice(i, i + BATCH));
    }),
  );
  const total = performance.now() - t0;
  const backendCpuMs = await backendCpu(pool);
  const batches = streams.reduce((n, st) => n + Math.ceil(st.length / BATCH), 0);
  const sql = [...spent.values()].reduce((a, e) => a + e.ms, 0);
  console.log(`${EVENTS} events in ${batches} batches of ${BATCH}, ${partitions} partition(s) at once: ${(total / 1000).toFixed(1)} s = ${Math.round(EVENTS / (total / 1000))}/s; ${(total / batches).toFixed(1)} ms a batch`);
  if (backendCpuMs !== undefined) console.log(`CPU per batch: postgres backends ${(backendCpuMs / batches).toFixed(1)} ms, node ${(nodeCpuMs() / batches).toFixed(1)} ms`);
  if (partitions > 1) console.log("(several batches at once: the statement times below overlap and add up to more than the wall time)");
  console.log(`statement                         ms/batch   share   calls/batch`);
  for (const [k, e] of [...spent.entries()].sort((a, b) => b[1].ms - a[1].ms)) {
    console.log(`${k.padEnd(34)}${(e.ms / batches).toFixed(1).padStart(8)} ${((100 * e.ms) / total).toFixed(1).padStart(6)} %  ${(e.n / batches).toFixed(1).padStart(6)}`);
  }
  console.log(`${"(node: decode-free JS between)".padEnd(34)}${((total - sql) / batches).toFixed(1).padStart(8)} ${((100 * (total - sql)) / total).toFixed(1).padStart(6)} %`);
  await printStorage(pool, EVENTS);
  const wanted = opts.explain;
  const last = wanted === undefined ? undefined : [...lastCall.entries()].find(([k]) => k.startsWith(wanted))?.[1];
  if (last) {
    const client = await pool.connect();
    try {
      await client.query("BEGIN");
      const plan = await client.query<{ "QUERY PLAN": string }>(`EXPLAIN (ANALYZE, BUFFERS) ${last.text}`, last.values);
      console.log(plan.rows.map((r) => r["QUERY PLAN"]).filter((l) => l.length < 400).join("\n"));
    } finally {
      await client.query("ROLLBACK");
      client.release();
    }
  }
} finally {
  pg.Client.prototype.query = original;
  await pool.end();
  await dropDatabase(url);
}
