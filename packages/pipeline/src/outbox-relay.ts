import { OutboxMessage, type StageTopicEvent } from "@lifecycle/events";
import { withTransaction, type OutboxRepo, type OutboxRow, type Pool } from "@lifecycle/db";
import type { Logger } from "@lifecycle/logging";
import type { FollowUpQueues, FollowUpToQueue } from "@lifecycle/queue";
import { createRelayMetrics, type RelayMetrics } from "./relay-metrics.js";
import { tracePublish } from "./trace-publish.js";

export interface OutboxRelayDeps {
  pool: Pool;
  outbox: OutboxRepo;
  followUps: FollowUpQueues;
  /** The engine's clock: a follow-up waits until it is due by this clock. */
  now: () => Promise<Date>;
  /** Publishes stage changes and erasures (CloudEvents) to `lifecycle-stage-changed`, keyed by customer. */
  publishStageChanges: (events: readonly StageTopicEvent[]) => Promise<void>;
  logger: Logger;
  metrics?: RelayMetrics;
  /** Poll interval when idle; `wake()` publishes sooner. @defaultValue 500 */
  idleMs?: number;
  /** @defaultValue 500 */
  batchSize?: number;
  /**
   * Follow-ups move into BullMQ when due within this horizon; later ones wait in Postgres, so
   * Redis holds near-due work rather than a year of birthdays. @defaultValue 300000 (5 minutes)
   */
  horizonMs?: number;
  /** Failed publishing attempts of one row (while others publish) before it is given up. @defaultValue 5 */
  maxAttempts?: number;
}

interface Parsed {
  row: OutboxRow;
  message: OutboxMessage;
}

const errorText = (err: unknown) => (err instanceof Error ? `${err.name}: ${err.message}` : String(err));

/**
 * Publishes outbox rows: claims a batch (FOR UPDATE SKIP LOCKED, so replicas share the work),
 * publishes it, and marks the rows published in the same transaction. Delivery is at-least-once
 * and the effects are idempotent (a follow-up's BullMQ job id is its dedupe key; a stage change
 * keeps its CloudEvents id).
 *
 * No row can hold up the rows behind it: a row that no longer parses is marked failed at once;
 * when a batch fails to publish, its rows are tried one by one, and a row that fails while others
 * go through is charged an attempt and given up after `maxAttempts`. When every row fails the
 * peer is away (Redis or Kafka down): nothing is charged, and the whole batch is retried later.
 */
export function createOutboxRelay(deps: OutboxRelayDeps) {
  const { pool, outbox, followUps, now, publishStageChanges, logger, idleMs = 500, batchSize = 500, horizonMs = 300_000, maxAttempts = 5 } = deps;
  const metrics = deps.metrics ?? createRelayMetrics();
  const log = logger.child({ module: "outbox-relay" });
  let running = false;
  let loop: Promise<void> | undefined;
  let wakeUp: (() => void) | undefined;
  let failures = 0;

  async function publish(batch: readonly Parsed[], at: number): Promise<void> {
    const jobs: FollowUpToQueue[] = [];
    const stageChanges: StageTopicEvent[] = [];
    // A message that carries a trace goes out under a span of its own, continuing that trace.
    const trace = tracePublish();
    for (const { message } of batch) {
      if (message.kind === "follow-up") jobs.push({ job: trace.followUp(message.payload, message.dedupeKey), jobId: message.dedupeKey, delayMs: Date.parse(message.payload.dueAt) - at });
      else stageChanges.push(trace.stageChange(message.payload));
    }
    try {
      if (jobs.length) await followUps.addBulk(jobs);
      // In claim order; one send for the batch. A crash after the send and before the commit
      // sends them again with the same event ids: consumers dedupe on the CloudEvents id.
      if (stageChanges.length) await publishStageChanges(stageChanges);
      trace.end();
    } catch (err) {
      trace.end(err);
      throw err;
    }
  }

  /** One by one: which rows fail on their own. Throws when none goes through (an outage). */
  async function isolate(batch: readonly Parsed[], at: number, batchError: unknown) {
    const published: Parsed[] = [];
    const failed: { parsed: Parsed; error: string }[] = [];
    for (const p of batch) {
      try {
        await publish([p], at);
        published.push(p);
      } catch (err) {
        failed.push({ parsed: p, error: errorText(err) });
      }
    }
    if (published.length === 0) throw batchError;
    return { published, failed };
  }

  const publishBatch = () =>
    withTransaction(pool, async (tx) => {
      const at = (await now()).getTime();
      const rows = await outbox.claim({ limit: batchSize, dueBefore: new Date(at + horizonMs) }, tx);
      const good: Parsed[] = [];
      const giveUp: { id: number; error: string; giveUp: boolean }[] = [];
      for (const row of rows) {
        const parsed = OutboxMessage.safeParse({ kind: row.kind, dedupeKey: row.dedupeKey, payload: row.payload });
        if (parsed.success) good.push({ row, message: parsed.data });
        else {
          giveUp.push({ id: row.id, error: `does not parse: ${parsed.error.message}`, giveUp: true });
          metrics.failed.inc({ kind: row.kind, reason: "invalid" });
        }
      }

      let published = good;
      try {
        if (good.length) await publish(good, at);
      } catch (err) {
        if (good.length === 1) throw err; // alone, a bad row cannot be told from an outage
        const split = await isolate(good, at, err);
        published = split.published;
        for (const { parsed, error } of split.failed) {
          const last = parsed.row.attempts + 1 >= maxAttempts;
          giveUp.push({ id: parsed.row.id, error, giveUp: last });
          if (last) metrics.failed.inc({ kind: parsed.message.kind, reason: "publish" });
          log.warn({ id: parsed.row.id, kind: parsed.message.kind, error, gaveUp: last }, "outbox row failed to publish while others did");
        }
      }
      await outbox.markFailed(giveUp, tx);
      await outbox.markPublished(published.map((p) => p.row.id), tx);
      for (const { message } of published) {
        metrics.published.inc({ kind: message.kind });
        if (message.kind === "stage-changed") metrics.stageChanges.inc({ to: message.payload.data.to });
      }
      return rows.length;
    });

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  async function run() {
    while (running) {
      try {
        const n = await publishBatch();
        failures = 0;
        if (n === batchSize) continue; // more waiting: go on at once
      } catch (err) {
        failures++;
        log.warn({ err, failures }, "outbox publish failed; retrying");
      }
      await sleep(failures ? Math.min(10_000, 200 * 2 ** failures) : idleMs);
    }
  }

  return {
    metrics,
    start() {
      running = true;
      loop = run();
    },
    /** Publish soon: called after a transaction wrote outbox rows. */
    wake() {
      wakeUp?.();
    },
    async stop() {
      running = false;
      wakeUp?.();
      await loop;
    },
  };
}
export type OutboxRelay = ReturnType<typeof createOutboxRelay>;
