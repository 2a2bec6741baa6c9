import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from "kafkajs";
import type { KafkaHeaders, LifecycleEvent, Rejection, Result } from "@lifecycle/events";
import type { Logger } from "@lifecycle/logging";
import type { AcceptedEvent, ApplyOutcome, DeadLetter, DeadLetterWriter, MergedShare } from "@lifecycle/pipeline";
import type { IngestMetrics } from "../ingest-metrics.js";

export interface LifecycleConsumerDeps {
  kafka: Kafka;
  groupId: string;
  sessionTimeoutMs?: number;
  /** Partitions processed at once (kafkajs partitionsConsumedConcurrently). @defaultValue 1 */
  concurrency?: number;
  topics: readonly string[];
  /** Bytes and headers to a valid event, or the reason to dead-letter them. */
  decode: (value: Buffer | null, headers: KafkaHeaders) => Result<LifecycleEvent, Rejection>;
  deadLetters: DeadLetterWriter;
  /**
   * Applies one partition's valid events (possibly in one transaction with other partitions'),
   * isolating those Postgres refuses; must be idempotent (a batch can be redelivered). May drop
   * the batch unapplied (rejecting) once `wanted` is false: the consumer stopped or lost the partition.
   */
  apply: (events: readonly AcceptedEvent[], wanted: () => boolean) => Promise<MergedShare>;
  metrics: IngestMetrics;
  logger: Logger;
  /** Called after a batch's offsets are committed (its state is committed before that). */
  onCommitted?: (events: readonly AcceptedEvent[], committedAt: number) => void;
  /** Called when the consumer stops for good (a non-retriable crash): the process should exit. */
  onFatal?: (error: Error) => void;
}

const MAX_BACKOFF_MS = 10_000;
/** Heartbeat answers after which this member owns nothing until it has rejoined its group. */
const MUST_REJOIN = new Set(["REBALANCE_IN_PROGRESS", "UNKNOWN_MEMBER_ID", "ILLEGAL_GENERATION"]);
/** While a batch applies, the group hears from us this often (kafkajs throttles to its heartbeat interval). */
const HEARTBEAT_EVERY_MS = 1_000;

/** What /readyz reports of the consumer. */
export type ConsumerHealth = { ok: true } | { ok: false; why: string };

/**
 * One consumer group over the input topics. Per batch (one partition): decode, dead-letter the
 * rejects, apply the rest, and only then commit the offset. Events Postgres refuses for their data
 * are isolated and dead-lettered too (`db-rejected`), so no event can stop its partition. Any other
 * failure to apply (Postgres or Kafka away, a timeout) is not bad input: the batch is retried with
 * backoff, heartbeating, and nothing is committed until it succeeds or the partition is taken away
 * (then the new owner redoes it).
 */
export class LifecycleEventsConsumer {
  private readonly consumer: Consumer;
  private readonly log: Logger;
  private readonly sessionTimeoutMs: number;
  private lastHeartbeatAt = 0;
  private crashed: Error | undefined;
  private running = false;
  /** Times this member joined its group; a batch belongs to the membership it was fetched in. */
  private joins = 0;
  /** The membership (join count) a heartbeat ended: "rejoin", after a rebalance began or an eviction. */
  private endedMembership = -1;

  constructor(private readonly deps: LifecycleConsumerDeps) {
    this.sessionTimeoutMs = deps.sessionTimeoutMs ?? 30_000;
    this.consumer = deps.kafka.consumer({
      groupId: deps.groupId,
      sessionTimeout: this.sessionTimeoutMs,
      heartbeatInterval: Math.min(3_000, Math.floor(this.sessionTimeoutMs / 10)),
      maxWaitTimeInMs: 250,
      allowAutoTopicCreation: false,
    });
    this.log = deps.logger.child({ module: "lifecycle-consumer", groupId: deps.groupId });
    const { HEARTBEAT, GROUP_JOIN, CRASH } = this.consumer.events;
    const alive = () => {
      this.lastHeartbeatAt = Date.now();
    };
    this.consumer.on(HEARTBEAT, alive);
    this.consumer.on(GROUP_JOIN, alive);
    // After a rebalance this member reports only the partitions it owns now.
    this.consumer.on(GROUP_JOIN, () => deps.metrics.lag.reset());
    this.consumer.on(GROUP_JOIN, () => {
      this.joins++;
    });
    this.consumer.on(CRASH, ({ payload }) => {
      this.log.error({ err: payload.error, restart: payload.restart }, "consumer crashed");
      if (!payload.restart) {
        this.crashed = payload.error;
        deps.onFatal?.(payload.error);
      }
    });
  }

  async start(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [...this.deps.topics], fromBeginning: true });
    this.running = true;
    await this.consumer.run({
      partitionsConsumedConcurrently: this.deps.concurrency ?? 1,
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: (payload) => this.handleBatch(payload),
    });
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.consumer.disconnect();
  }

  /**
   * Not ready when the consumer crashed for good, or when the group has not heard from it for a
   * session timeout (it would be evicted, or already is, and its partitions stall meanwhile).
   */
  health(now = Date.now()): ConsumerHealth {
    if (this.crashed) return { ok: false, why: `consumer crashed: ${this.crashed.message}` };
    if (!this.running) return { ok: false, why: "consumer not running" };
    const silentMs = now - this.lastHeartbeatAt;
    return silentMs > this.sessionTimeoutMs ? { ok: false, why: `no heartbeat for ${silentMs} ms (session timeout ${this.sessionTimeoutMs} ms)` } : { ok: true };
  }

  /** Resolves once the consumer has joined its group and been assigned partitions. */
  waitUntilJoined(timeoutMs = 30_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("consumer did not join its group in time")), timeoutMs);
      const off = this.consumer.on(this.consumer.events.GROUP_JOIN, () => {
        clearTimeout(timer);
        off();
        resolve();
      });
    });
  }

  private async handleBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    if (batch.messages.length === 0) return;
    const { topic, partition } = batch;
    const letter = (m: KafkaMessage, rejection: DeadLetter["rejection"]): DeadLetter => ({ topic, partition, offset: m.offset, key: m.key, value: m.value, headers: m.headers ?? {}, rejection });
    const byOffset = new Map<number, KafkaMessage>();
    const accepted: AcceptedEvent[] = [];
    const rejected: DeadLetter[] = [];
    for (const m of batch.messages) {
      const decoded = this.deps.decode(m.value, m.headers ?? {});
      const offset = Number(m.offset);
      byOffset.set(offset, m);
      if (decoded.ok) accepted.push({ event: decoded.value, topic, partition, offset, producedAt: Number(m.timestamp) });
      else rejected.push(letter(m, decoded.error));
    }

    let outcome: ApplyOutcome | undefined;
    let refused: DeadLetter[] = [];
    // kafkajs rejoins a rebalancing group only once every batch it handed out has returned. Batches
    // waiting for a transaction would hold that up past the rebalance timeout on a loaded machine
    // (then the member is evicted, its commits fail and it crashes, while the new owners redo the
    // same batches): once a heartbeat says "rejoin", this member's batches are no longer wanted.
    const membership = this.joins;
    const heartbeat = () =>
      payload.heartbeat().catch((err: unknown) => {
        if (mustRejoin(err)) this.endedMembership = membership;
        throw err;
      });
    const lost = () => payload.isStale() || this.endedMembership === membership;
    const wanted = () => payload.isRunning() && !lost();
    for (let attempt = 0; outcome === undefined; attempt++) {
      if (!wanted()) return; // partition lost or shutting down: commit nothing
      try {
        await this.deps.deadLetters.send(rejected);
        const applied = await withHeartbeats(() => this.deps.apply(accepted, wanted), heartbeat);
        refused = applied.rejected.flatMap((r) => {
          const m = byOffset.get(r.event.offset);
          return m ? [letter(m, r.reason)] : [];
        });
        await this.deps.deadLetters.send(refused);
        outcome = applied.outcome;
      } catch (err) {
        if (!wanted()) return; // withdrawn, or failed while stopping: the next owner redoes it
        const delay = Math.min(MAX_BACKOFF_MS, 200 * 2 ** attempt);
        this.deps.metrics.batchRetries.inc();
        this.log.warn({ err, topic, partition, attempt, retryInMs: delay }, "batch not applied; retrying");
        await sleepWithHeartbeat(delay, heartbeat);
      }
    }

    // Applied, but no longer this member's to commit: the commit would fail and crash the consumer.
    // Whoever owns the partition next finds these events recorded. (A stopping consumer still commits.)
    if (lost()) return;
    const last = batch.lastOffset();
    payload.resolveOffset(last);
    try {
      await this.consumer.commitOffsets([{ topic, partition, offset: (BigInt(last) + 1n).toString() }]);
    } catch (err) {
      // Evicted or rebalanced since the check above: as lost. Thrown on, it would crash the consumer.
      if (!mustRejoin(err)) throw err;
      this.endedMembership = membership;
      return;
    }
    await payload.heartbeat();
    const committedAt = Date.now();
    this.deps.metrics.lag.set({ topic, partition: String(partition) }, Number(batch.offsetLag()));
    for (const a of accepted) if (a.producedAt) this.deps.metrics.latency.observe((committedAt - a.producedAt) / 1000);
    this.deps.onCommitted?.(accepted, committedAt);

    // Counted and logged once, after the commit: a batch retried above is not counted twice.
    const { events } = this.deps.metrics;
    events.inc({ outcome: "applied", kind: "" }, outcome.applied);
    events.inc({ outcome: "duplicate", kind: "" }, outcome.duplicates);
    for (const r of [...rejected, ...refused]) {
      events.inc({ outcome: "dead_lettered", kind: r.rejection.kind });
      this.log.warn({ topic, partition, offset: r.offset, reason: r.rejection }, "event dead-lettered");
    }
  }
}

/**
 * Runs `work` while heartbeating beside it: a batch that takes long (lock waits, a slow disk) must
 * not get the member evicted from its group. A failed heartbeat (a rebalance) is left to kafkajs,
 * which rejoins; the batch's own outcome is what counts here.
 */
async function withHeartbeats<T>(work: () => Promise<T>, heartbeat: () => Promise<void>): Promise<T> {
  const timer = setInterval(() => void heartbeat().catch(() => undefined), HEARTBEAT_EVERY_MS);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}

function mustRejoin(err: unknown): boolean {
  // kafkajs may wrap the protocol error (KafkaJSNonRetriableError): look through a few causes.
  let e: unknown = err;
  for (let depth = 0; depth < 4 && typeof e === "object" && e !== null; depth++) {
    if ("type" in e && typeof e.type === "string" && MUST_REJOIN.has(e.type)) return true;
    e = "cause" in e ? e.cause : undefined;
  }
  return false;
}

async function sleepWithHeartbeat(ms: number, heartbeat: () => Promise<void>): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    await new Promise((r) => setTimeout(r, Math.min(1_000, until - Date.now())));
    // If Kafka itself is away or the group is rebalancing this throws: kafkajs then rejoins and
    // the uncommitted batch is redelivered, which `apply` tolerates.
    await heartbeat();
  }
}
