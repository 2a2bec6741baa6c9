import { inTransaction, withClient, type OutboxRepo, type Pool } from "@lifecycle/db";
import type { EngineSettings } from "@lifecycle/domain";
import type { Clock } from "./clock.js";
import { createAnnualChurnCache, refreshAnnualChurn, type AnnualChurnCache } from "./annual-churn.js";
import { evaluateCustomers } from "./evaluate-customers.js";
import type { ModelCache } from "./models.repo.js";

/** Key of the session advisory lock that makes the sweep one runner at a time across replicas. */
export const SWEEP_LOCK_KEY = 7_042_001;

export interface SweepDeps {
  pool: Pool;
  outbox: OutboxRepo;
  clock: Clock;
  models: ModelCache;
  /** The process's annual churn cache, invalidated when this sweep stores a new measurement. @defaultValue read once per sweep */
  churn?: AnnualChurnCache;
  settings: EngineSettings;
  /** Customers per transaction. @defaultValue 1000 */
  batchSize?: number;
}

export type SweepResult = { ran: false; why: string } | { ran: true; now: Date; evaluated: number; transitions: number; batches: number };

/**
 * Time-driven transitions: nothing arrives, yet a window runs out. Every evaluation stores when
 * the clock alone could change the customer's stage (`stage_review_at`); the sweep takes the
 * customers whose time has come, in batches (FOR UPDATE SKIP LOCKED, so it never waits on an
 * ingest batch), and re-evaluates them. A session advisory lock keeps it to one runner at a time
 * even when several workers fire the schedule.
 */
export async function sweepDueCustomers({ pool, outbox, clock, models, churn = createAnnualChurnCache({ ttlMs: 0 }), settings, batchSize = 1000 }: SweepDeps): Promise<SweepResult> {
  return withClient(pool, async (client) => {
    const lock = await client.query<{ ok: boolean }>("SELECT pg_try_advisory_lock($1) AS ok", [SWEEP_LOCK_KEY]);
    if (!lock.rows[0]?.ok) return { ran: false, why: "another sweep is running" };
    try {
      const now = await clock.read(client);
      if (!now) return { ran: false, why: "no event seen yet (watermark clock)" };
      // The simple CLV's lifespan rests on the base's annual churn: measured here, one runner at a
      // time, at most daily in clock time, before the due customers are evaluated with it. A new
      // measurement replaces this process's cached one at once (other processes: within the TTL).
      if ((await refreshAnnualChurn(client, now)).stored) churn.invalidate();
      const fitted = await models.get(client);
      const measured = (await churn.get(client)) ?? null;
      let evaluated = 0;
      let transitions = 0;
      let batches = 0;
      for (;;) {
        const r = await inTransaction(client, async (tx) => {
          const due = await tx.query<{ customer_id: string }>(
            `SELECT customer_id FROM customers WHERE stage_review_at <= $1
              ORDER BY stage_review_at LIMIT $2 FOR UPDATE SKIP LOCKED`,
            [now, batchSize],
          );
          return evaluateCustomers({ tx, outbox, customerIds: due.rows.map((d) => d.customer_id), now, models: fitted, churn: measured, settings });
        });
        evaluated += r.evaluated;
        transitions += r.transitions;
        if (r.evaluated > 0) batches++;
        if (r.evaluated < batchSize) break;
      }
      return { ran: true, now, evaluated, transitions, batches };
    } finally {
      // A session lock outlives transactions: release it, or the next sweep on this pooled client would skip.
      await client.query("SELECT pg_advisory_unlock($1)", [SWEEP_LOCK_KEY]);
    }
  });
}
