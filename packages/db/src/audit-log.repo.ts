import type { Queryable } from "./pool.js";

/** The audited actions (see migration 0012). */
export const AUDIT_ACTIONS = ["key.created", "key.rotated", "key.revoked", "customer.erased", "customer.merged", "consent.changed", "queue.action"] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export interface AuditEntry {
  /** `key:<id>` for an API key, `cli:<user>` for the command line. */
  actor: string;
  action: AuditAction;
  /** The key, customer or job acted on. */
  subject?: string | undefined;
  /** What else says what happened; never personal data. */
  details?: Record<string, unknown>;
}

export interface RecordedAuditEntry extends AuditEntry {
  id: number;
  at: Date;
}

/** The append-only audit log of admin actions. */
export function createAuditLogRepo(db: Queryable) {
  return {
    async record(entry: AuditEntry, tx: Queryable = db): Promise<void> {
      await tx.query("INSERT INTO audit_log (actor, action, subject, details) VALUES ($1, $2, $3, $4)", [entry.actor, entry.action, entry.subject ?? null, JSON.stringify(entry.details ?? {})]);
    },

    /** Newest first; `before` is the id of the last entry of the previous page. */
    async list({ before, limit, action }: { before?: number | undefined; limit: number; action?: AuditAction | undefined }, tx: Queryable = db): Promise<RecordedAuditEntry[]> {
      const r = await tx.query<{ id: string; at: Date; actor: string; action: AuditAction; subject: string | null; details: Record<string, unknown> }>(
        `SELECT id, at, actor, action, subject, details FROM audit_log
          WHERE ($1::bigint IS NULL OR id < $1) AND ($2::text IS NULL OR action = $2)
          ORDER BY id DESC LIMIT $3`,
        [before ?? null, action ?? null, limit],
      );
      return r.rows.map((row) => ({ id: Number(row.id), at: row.at, actor: row.actor, action: row.action, subject: row.subject ?? undefined, details: row.details }));
    },
  };
}
export type AuditLogRepo = ReturnType<typeof createAuditLogRepo>;
