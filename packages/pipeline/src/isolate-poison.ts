import { classifySqlError, sqlStateOf } from "@lifecycle/db";
import type { AcceptedEvent, ApplyOutcome } from "./apply-events.js";

/** An event Postgres refused: it goes to the dead-letter topic with the SQLSTATE and message. */
export interface DbRejected {
  event: AcceptedEvent;
  reason: { kind: "db-rejected"; sqlState: string; message: string; paths: string[] };
}

const NOTHING: ApplyOutcome = { applied: 0, duplicates: 0, outboxed: 0, transitions: 0 };

export function addOutcomes(a: ApplyOutcome, b: ApplyOutcome): ApplyOutcome {
  return { applied: a.applied + b.applied, duplicates: a.duplicates + b.duplicates, outboxed: a.outboxed + b.outboxed, transitions: a.transitions + b.transitions };
}

/**
 * Applies a batch; when Postgres refuses it for its data (SQLSTATE classes 22, 23, 54), splits it
 * in halves until the events that cause the refusal are found, applies the rest, and returns the
 * refused ones to be dead-lettered. A poison event in a batch of n costs about 2·log2(n) extra
 * transactions, and only when there is one. Any other error (Postgres away, a timeout, a
 * deadlock) is thrown for the caller to retry the whole batch.
 */
export async function applyIsolatingPoison(
  apply: (events: readonly AcceptedEvent[]) => Promise<ApplyOutcome>,
  events: readonly AcceptedEvent[],
): Promise<{ outcome: ApplyOutcome; rejected: DbRejected[] }> {
  try {
    return { outcome: await apply(events), rejected: [] };
  } catch (err) {
    if (classifySqlError(err) !== "data") throw err;
    const [only] = events;
    if (events.length === 1 && only) {
      const message = err instanceof Error ? err.message : String(err);
      return { outcome: NOTHING, rejected: [{ event: only, reason: { kind: "db-rejected", sqlState: sqlStateOf(err) ?? "", message, paths: [] } }] };
    }
    const mid = Math.ceil(events.length / 2);
    const first = await applyIsolatingPoison(apply, events.slice(0, mid));
    const second = await applyIsolatingPoison(apply, events.slice(mid));
    return { outcome: addOutcomes(first.outcome, second.outcome), rejected: [...first.rejected, ...second.rejected] };
  }
}
