import type { AcceptedEvent, ApplyOutcome } from "./apply-events.js";
import { applyIsolatingPoison, type DbRejected } from "./isolate-poison.js";

/** What one partition batch gets back from a merged apply. */
export interface MergedShare {
  /** The whole transaction's outcome goes to one share and zeros to the others, so sums stay right. */
  outcome: ApplyOutcome;
  /** This batch's events Postgres refused for their data, to dead-letter. */
  rejected: DbRejected[];
}

export interface BatchMergerOptions {
  /** Applies events in one transaction (the pipeline's `applyEvents` over its deps). */
  apply: (events: readonly AcceptedEvent[]) => Promise<ApplyOutcome>;
  /** How long the first waiting batch waits for others to join it. @defaultValue 5 */
  lingerMs?: number;
  /** Waiting batches that make a transaction start at once (the consumer's concurrency). @defaultValue 1 */
  fullAt?: number;
  /**
   * A transaction takes at most about this many events; the rest wait for the next. A shutdown or
   * a rebalance waits for the transactions in flight: on a loaded machine 20,000 events took 20 s,
   * past the 15 s a SIGTERM is given. @defaultValue 5000
   */
  maxEvents?: number;
  /** Transactions applying at once: two let node prepare one while Postgres runs the other. @defaultValue 2 */
  maxInFlight?: number;
}

interface Waiting {
  events: readonly AcceptedEvent[];
  wanted: () => boolean;
  resolve: (share: MergedShare) => void;
  reject: (err: unknown) => void;
}

/** A batch's caller gets this when its batch was dropped unapplied because it was no longer wanted. */
export class BatchWithdrawn extends Error {
  constructor() {
    super("the batch was withdrawn before its transaction began");
    this.name = this.constructor.name;
  }
}

const NOTHING: ApplyOutcome = { applied: 0, duplicates: 0, outboxed: 0, transitions: 0 };
const keyOf = (e: AcceptedEvent) => `${e.topic}\u0000${e.partition}\u0000${e.offset}`;

/**
 * Applies the batches of several partitions in one transaction. Kafka hands the consumer one
 * batch per partition; with many partitions and steady traffic each holds a few events, and a
 * transaction per batch spends its time on round trips and commits rather than on rows. Batches
 * that arrive while others wait (or while a transaction runs) join them: one transaction, one
 * commit, and each batch's offsets are committed by its own caller after it.
 *
 * Poison isolation runs over the merged events, and each batch gets back its own refused events.
 * Any other failure rejects every batch of the transaction; each caller retries its own.
 */
export function createBatchMerger({ apply, lingerMs = 5, fullAt = 1, maxEvents = 5_000, maxInFlight = 2 }: BatchMergerOptions) {
  const waiting: Waiting[] = [];
  let inFlight = 0;
  let timer: NodeJS.Timeout | undefined;

  const waitingEvents = () => waiting.reduce((n, w) => n + w.events.length, 0);

  function schedule() {
    if (waiting.length === 0 || inFlight >= maxInFlight) return;
    if (waiting.length >= fullAt || waitingEvents() >= maxEvents) {
      flush();
      return;
    }
    timer ??= setTimeout(flush, lingerMs);
  }

  function flush() {
    if (timer) clearTimeout(timer);
    timer = undefined;
    withdrawUnwanted();
    if (waiting.length === 0 || inFlight >= maxInFlight) return;
    // Whole batches only: a partition's events commit together or not at all.
    const taken: Waiting[] = [];
    let size = 0;
    while (waiting.length && (taken.length === 0 || size + (waiting[0]?.events.length ?? 0) <= maxEvents)) {
      const next = waiting.shift();
      if (!next) break;
      taken.push(next);
      size += next.events.length;
    }
    inFlight++;
    void run(taken).finally(() => {
      inFlight--;
      // What arrived meanwhile has waited a whole transaction already: no linger.
      flush();
    });
    schedule();
  }

  // A consumer stopping (SIGTERM) or losing partitions to a rebalance still waits for the batches
  // it was handed. Applying those queued behind the transactions in flight took a loaded replica
  // past its shutdown grace; the next owner redoes them anyway, so they leave unapplied.
  function withdrawUnwanted() {
    for (let i = waiting.length - 1; i >= 0; i--) {
      const w = waiting[i];
      if (w && !w.wanted()) {
        waiting.splice(i, 1);
        w.reject(new BatchWithdrawn());
      }
    }
  }

  async function run(taken: Waiting[]) {
    try {
      const { outcome, rejected } = await applyIsolatingPoison(apply, taken.flatMap((w) => w.events));
      const refusedByKey = new Map(rejected.map((r) => [keyOf(r.event), r]));
      taken.forEach((w, i) => {
        const mine = w.events.flatMap((e) => refusedByKey.get(keyOf(e)) ?? []);
        w.resolve({ outcome: i === 0 ? outcome : NOTHING, rejected: mine });
      });
    } catch (err) {
      for (const w of taken) w.reject(err);
    }
  }

  return {
    /**
     * Applies one partition batch, merged with whatever else is waiting. While the batch waits,
     * `wanted` turning false drops it unapplied: the promise rejects with `BatchWithdrawn`.
     */
    apply(events: readonly AcceptedEvent[], wanted: () => boolean = () => true): Promise<MergedShare> {
      if (events.length === 0) return Promise.resolve({ outcome: NOTHING, rejected: [] });
      return new Promise<MergedShare>((resolve, reject) => {
        waiting.push({ events, wanted, resolve, reject });
        schedule();
      });
    },
  };
}
export type BatchMerger = ReturnType<typeof createBatchMerger>;
