import type { Queryable } from "./pool.js";

/**
 * First key of the two-key advisory locks that serialize one customer's marketing-cap decisions
 * (the second is a hash of the customer id). Two-key locks never collide with the one-key ones
 * (the sweep's, the migrations').
 */
const CAP_LOCK_CLASS = 7_042_011;

/** The marketing jobs competing for a customer's cap while they are attempted (migration 0011 says why). */
export function createMarketingCapRepo(db: Queryable) {
  return {
    /** The job's attempt starts: it competes from now (again, if a crashed attempt left it here). */
    async enter({ jobId, customerId, priority, dueAt }: { jobId: string; customerId: string; priority: number; dueAt: Date }, tx: Queryable = db): Promise<void> {
      await tx.query(
        `INSERT INTO marketing_cap_claims (job_id, customer_id, priority, due_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (job_id) DO UPDATE SET priority = EXCLUDED.priority, due_at = EXCLUDED.due_at, holds_slot = false, updated_at = now()`,
        [jobId, customerId, priority, dueAt],
      );
    },

    /** Waits for, then holds until `tx` ends, the customer's marketing-cap lock. */
    async lockCustomer(customerId: string, tx: Queryable): Promise<void> {
      await tx.query("SELECT pg_advisory_xact_lock($1, hashtext($2))", [CAP_LOCK_CLASS, customerId]);
    },

    /** The job was let through: it holds a slot of the cap until it leaves. */
    async takeSlot(jobId: string, tx: Queryable = db): Promise<void> {
      await tx.query("UPDATE marketing_cap_claims SET holds_slot = true, updated_at = now() WHERE job_id = $1", [jobId]);
    },

    /** The attempt is over: its outcome (or none) speaks for it now. */
    async leave(jobId: string, tx: Queryable = db): Promise<void> {
      await tx.query("DELETE FROM marketing_cap_claims WHERE job_id = $1", [jobId]);
    },
  };
}
export type MarketingCapRepo = ReturnType<typeof createMarketingCapRepo>;
