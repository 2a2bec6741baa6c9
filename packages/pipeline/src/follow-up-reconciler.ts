import { withTransaction, type OutboxRepo, type Pool } from "@lifecycle/db";
import type { Logger } from "@lifecycle/logging";
import type { Redis } from "@lifecycle/queue";
import { Counter, type Registry } from "prom-client";

export interface FollowUpReconcilerDeps {
  pool: Pool;
  outbox: OutboxRepo;
  connection: Redis;
  /** The queues' prefix: the marker lives beside them, so it goes when they go. */
  prefix: string;
  /** The engine's clock: what has expired by it is not re-added. */
  now: () => Promise<Date>;
  logger: Logger;
  registry?: Registry;
  /** Called after rows went back to pending (the local relay publishes them at once). */
  onRequeued?: () => void;
  /** How often the marker is checked. @defaultValue 15000 */
  everyMs?: number;
  /**
   * How long to wait after finding the marker gone before requeueing: a delivery in flight when
   * Redis lost its data records its outcome within this time (BullMQ's default job lock), so it is
   * not requeued and sent again. @defaultValue 30000
   */
  settleMs?: number;
}

/** The Redis key whose absence means Redis lost its data (a restart without persistence, a flush, a failover to an empty replica). */
export const reconcileMarkerKey = (prefix: string) => `${prefix}:lifecycle:reconciled-at`;

/**
 * Finds out when Redis lost the follow-up queues and re-adds what was lost. A marker key sits
 * beside the queues; when it is missing (first start, or Redis came back empty), every follow-up
 * the outbox had published without an outcome goes back to pending and the relay adds it again
 * under its same job id, and the marker is set. Jobs that survived are untouched (adding an
 * existing job id is a no-op in BullMQ), and finished ones are not re-added (their outcome is in
 * Postgres), so nothing is sent twice. Postgres first, then the marker: a crash in between only
 * repeats the (idempotent) requeue.
 */
export function createFollowUpReconciler(deps: FollowUpReconcilerDeps) {
  const { pool, outbox, connection, prefix, now, logger, onRequeued, everyMs = 15_000, settleMs = 30_000 } = deps;
  const log = logger.child({ module: "follow-up-reconciler" });
  const requeued = new Counter({
    name: "lifecycle_follow_ups_reconciled_total",
    help: "Follow-ups re-added from the outbox after Redis lost its data",
    registers: deps.registry ? [deps.registry] : [],
  });
  const key = reconcileMarkerKey(prefix);
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number | undefined> | undefined;
  let stopped = false;
  let wake: (() => void) | undefined;
  const settle = () =>
    new Promise<void>((resolve) => {
      const t = setTimeout(resolve, settleMs);
      wake = () => {
        clearTimeout(t);
        resolve();
      };
    });

  /** Checks the marker once; reconciles when it is missing. Resolves with the rows requeued (undefined: nothing was missing). */
  async function check(): Promise<number | undefined> {
    if ((await connection.exists(key)) === 1) return undefined;
    log.info({ settleMs }, "follow-up queues have no reconciliation marker: checking them against the outbox");
    await settle();
    if (stopped) return undefined;
    const at = await now();
    const n = await withTransaction(pool, (tx) => outbox.requeueUnfinishedFollowUps(at, tx));
    await connection.set(key, new Date().toISOString());
    requeued.inc(n);
    if (n > 0) {
      log.warn({ requeued: n }, "follow-up queues had no marker (Redis lost its data, or a first start): unfinished follow-ups go back to the relay under their job ids; jobs still queued are left as they are");
      onRequeued?.();
    } else log.info("follow-up queues checked against the outbox: nothing to re-add");
    return n;
  }

  const tick = () => {
    running ??= check()
      .catch((err: unknown) => {
        log.warn({ err }, "follow-up reconciliation failed; trying again");
        return undefined;
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  };

  return {
    check: tick,
    start() {
      void tick();
      timer = setInterval(() => void tick(), everyMs);
      timer.unref();
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      wake?.();
      await running;
    },
  };
}
export type FollowUpReconciler = ReturnType<typeof createFollowUpReconciler>;
