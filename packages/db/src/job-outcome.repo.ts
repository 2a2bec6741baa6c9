import type { Queryable } from "./pool.js";

export interface JobOutcome {
  jobId: string;
  queue: string;
  jobName: string;
  customerId: string;
  status: "sent" | "skipped" | "failed" | "held-out";
  detail: string | null;
  attempts: number;
}

export interface RecordedJobOutcome extends JobOutcome {
  finishedAt: Date;
}

interface JobOutcomeRow {
  job_id: string;
  queue: string;
  job_name: string;
  customer_id: string;
  status: JobOutcome["status"];
  detail: string | null;
  attempts: number;
  finished_at: Date;
}

// The follow-up's due time, from its outbox row (job id = dedupe key; `jobId` is an SQL expression),
// kept with the outcome: the uplift's purchase window starts there, and the outbox row is deleted a
// while after publishing.
const dueAtOf = (jobId: string) => `SELECT coalesce(x.due_at, (x.payload->>'dueAt')::timestamptz) FROM outbox x WHERE x.dedupe_key = ${jobId}`;

/** Where each follow-up job ended up: sent, skipped (and why) or failed (and with what error). */
export function createJobOutcomeRepo(db: Queryable) {
  return {
    /** Records an outcome; a later attempt of the same job overwrites the earlier one. */
    async record(o: JobOutcome, tx: Queryable = db): Promise<void> {
      await tx.query(
        `INSERT INTO job_outcomes (job_id, queue, job_name, customer_id, status, detail, attempts, due_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, (${dueAtOf("$1")}))
         ON CONFLICT (job_id) DO UPDATE
           SET status = EXCLUDED.status, detail = EXCLUDED.detail, attempts = EXCLUDED.attempts, finished_at = now(),
               due_at = coalesce(job_outcomes.due_at, EXCLUDED.due_at)`,
        [o.jobId, o.queue, o.jobName, o.customerId, o.status, o.detail, o.attempts],
      );
    },

    /** Records outcomes decided before any attempt (a follow-up expired before it was queued); an existing outcome wins. */
    async recordNew(outcomes: readonly JobOutcome[], tx: Queryable = db): Promise<void> {
      if (outcomes.length === 0) return;
      await tx.query(
        `INSERT INTO job_outcomes (job_id, queue, job_name, customer_id, status, detail, attempts, due_at)
         SELECT job_id, queue, job_name, customer_id, status, detail, attempts, (${dueAtOf("o.job_id")})
           FROM jsonb_to_recordset($1::jsonb) AS o(job_id text, queue text, job_name text, customer_id text, status text, detail text, attempts int)
         ON CONFLICT (job_id) DO NOTHING`,
        [JSON.stringify(outcomes.map((o) => ({ job_id: o.jobId, queue: o.queue, job_name: o.jobName, customer_id: o.customerId, status: o.status, detail: o.detail, attempts: o.attempts })))],
      );
    },

    /**
     * The outcome of a job that is done for good (sent, skipped, held out); undefined when it has
     * none or failed (a failed job may be retried by hand). A job re-added after a Redis loss checks
     * this first, so what went out before the loss is not sent again.
     */
    async finished(jobId: string, tx: Queryable = db): Promise<JobOutcome["status"] | undefined> {
      const r = await tx.query<{ status: JobOutcome["status"] }>("SELECT status FROM job_outcomes WHERE job_id = $1 AND status <> 'failed'", [jobId]);
      return r.rows[0]?.status;
    },

    async listForCustomer(customerId: string, tx: Queryable = db): Promise<RecordedJobOutcome[]> {
      const result = await tx.query<JobOutcomeRow>(
        "SELECT job_id, queue, job_name, customer_id, status, detail, attempts, finished_at FROM job_outcomes WHERE customer_id = $1 ORDER BY finished_at, job_id",
        [customerId],
      );
      return result.rows.map((r) => ({
        jobId: r.job_id,
        queue: r.queue,
        jobName: r.job_name,
        customerId: r.customer_id,
        status: r.status,
        detail: r.detail,
        attempts: r.attempts,
        finishedAt: r.finished_at,
      }));
    },
  };
}

export type JobOutcomeRepo = ReturnType<typeof createJobOutcomeRepo>;
