// What every phase of the ingest bench shares: the run's names (databases, topics, groups, Redis
// prefixes all start with the run id, so the clean-up finds them all), the broker, the samplers,
// the sinks, and helpers for databases and topics that register their own removal.
import type { Admin, Kafka } from "kafkajs";
import { createDatabase, createPool, dropDatabase, migrate, type Pool } from "@lifecycle/db";
import type { InputTopics } from "@lifecycle/events";
import type { createTopicRegistry } from "./broker.js";
import type { DisruptionEvent } from "./disruptions.js";
import type { RedisSampler } from "./redis-sampler.js";
import type { Sinks } from "./sinks.js";
import type { Teardown } from "./teardown.js";

export interface BenchOptions {
  synthetic: number;
  customers: number;
  partitions: number;
  /** INGEST_CONCURRENCY for the services; undefined: the service's default. */
  concurrency: number | undefined;
  naiveSample: number;
  latencyRate: number;
  latencySeconds: number;
  floorEvents: number | undefined;
  profileEvents: number;
  timeoutMin: number | undefined;
  sweepMs: number;
  playbooks: string | undefined;
}

export interface BenchContext {
  run: string;
  root: string;
  port: string;
  pgServer: string;
  redisUrl: string;
  logDir: string;
  opts: BenchOptions;
  kafka: Kafka;
  admin: Admin;
  topics: ReturnType<typeof createTopicRegistry>;
  teardown: Teardown;
  sampler: RedisSampler;
  sinks: Sinks;
  /** Disruption lines logged by consumers inside this process. */
  inProcessLog: DisruptionEvent[];
  say: (line: string) => void;
}

/** A generous limit for a phase of `events`: 10 min plus 1 ms an event (1,000 events/s). */
export const phaseTimeoutMs = (ctx: BenchContext, events: number) => (ctx.opts.timeoutMin ?? 10 + events / 60_000) * 60_000;

export const inputTopicsFor = (ctx: BenchContext, name: string): InputTopics => ({
  customer: `bench-${ctx.run}-${name}-customer`,
  purchase: `bench-${ctx.run}-${name}-purchase`,
  supportTicket: `bench-${ctx.run}-${name}-ticket`,
  survey: `bench-${ctx.run}-${name}-survey`,
});

/** The topics a service of phase `name` writes to, created up front (and deleted at the end). */
export async function outputTopicsFor(ctx: BenchContext, name: string) {
  const dlq = `bench-${ctx.run}-${name}-dlq`;
  const stageChanged = `bench-${ctx.run}-${name}-stage-changed`;
  await ctx.topics.create([dlq, stageChanged], ctx.opts.partitions);
  return { dlq, stageChanged };
}

export interface BenchDatabase {
  url: string;
  pool: Pool;
  /** Closes the pool and drops the database now (it is also done at the end otherwise). */
  drop(): Promise<void>;
}

/** A fresh, migrated database for one phase, dropped when the phase ends or the bench stops. */
export async function benchDatabase(ctx: BenchContext, name: string, { migrated = true } = {}): Promise<BenchDatabase> {
  const url = `${ctx.pgServer}/lifecycle_bench_${ctx.run}_${name}`;
  const drop = ctx.teardown.add(`drop database lifecycle_bench_${ctx.run}_${name}`, () => dropDatabase(url));
  await createDatabase(url);
  if (migrated) await migrate({ databaseUrl: url });
  const pool = createPool({ connectionString: url, max: 2, applicationName: "bench" });
  const close = ctx.teardown.add(`close the bench's pool on ${name}`, () => pool.end());
  return {
    url,
    pool,
    async drop() {
      await close();
      await drop();
    },
  };
}

/** Events recorded (their ids: the payloads of months past EVENT_PAYLOAD_RETENTION_DAYS may be dropped meanwhile). */
export async function countRecorded(pool: Pool): Promise<number> {
  return (await pool.query<{ n: number }>("SELECT count(*)::int AS n FROM event_ids")).rows[0]?.n ?? 0;
}

/** What the outbox and the worker hold at the end of a phase. */
export async function outboxFigures(pool: Pool) {
  const r = await pool.query<{ stage: number; waiting: number; failed: number; outcomes: number }>(
    `SELECT count(*) FILTER (WHERE published_at IS NULL AND failed_at IS NULL AND due_at IS NULL)::int AS stage,
            count(*) FILTER (WHERE published_at IS NULL AND failed_at IS NULL AND due_at IS NOT NULL)::int AS waiting,
            count(*) FILTER (WHERE failed_at IS NOT NULL)::int AS failed,
            (SELECT count(*)::int FROM job_outcomes) AS outcomes
       FROM outbox`,
  );
  const row = r.rows[0];
  return { outbox: { stageChangesUnpublished: row?.stage ?? 0, followUpsWaiting: row?.waiting ?? 0, failed: row?.failed ?? 0 }, jobOutcomes: row?.outcomes ?? 0 };
}


/** The ingest config's INGEST_CONCURRENCY default (services/ingest/src/config.ts), for what runs in-process. */
export const DEFAULT_INGEST_CONCURRENCY = 48;

/** `work`, or a loud failure once `ms` have passed. */
export async function withTimeout<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${message} (${Math.round(ms / 60_000)} min)`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
