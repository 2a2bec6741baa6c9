import { Partitioners, type Kafka, type Producer } from "kafkajs";
import type { Pool } from "@lifecycle/db";
import { decodeForIngest, TOPICS, type KafkaHeaders } from "@lifecycle/events";
import { createClock, type ClockMode } from "@lifecycle/engine";
import type { EngineSettings } from "@lifecycle/domain";
import { ensureTopics } from "@lifecycle/kafka";
import type { Logger } from "@lifecycle/logging";
import type { FollowUpQueues } from "@lifecycle/queue";
import { LifecycleEventsConsumer } from "./consumers/lifecycle-events.consumer.js";
import { addOutcomes, applyEvents, createApplyDeps, createBatchMerger, createDeadLetterWriter, createOutboxRelay, createRelayMetrics, stageChangePublisher, type AcceptedEvent, type ApplyOutcome } from "@lifecycle/pipeline";

import { createIngestMetrics, type IngestMetrics } from "./ingest-metrics.js";

export interface IngestServiceDeps {
  kafka: Kafka;
  pool: Pool;
  followUps: FollowUpQueues;
  logger: Logger;
  groupId: string;
  /** @defaultValue 30000 (kafkajs's default) */
  sessionTimeoutMs?: number;
  inputTopics: readonly string[];
  dlqTopic: string;
  /** Where stage changes are published. @defaultValue lifecycle-stage-changed */
  stageChangedTopic?: string;
  topicPartitions: number;
  /** The lifecycle engine's clock. @defaultValue wall */
  clock?: ClockMode;
  /** Stage rules and CLV settings. @defaultValue the contract's defaults */
  engineSettings?: EngineSettings;
  /** How often fitted models are re-read. @defaultValue 60000 */
  modelCacheMs?: number;
  /** Rates to the base currency, the base itself at "1". */
  rates: Readonly<Record<string, string>>;
  metrics?: IngestMetrics;
  /**
   * `batch` (the product): one transaction per partition batch, set-based SQL. `per-event`: one
   * transaction per event, the naive baseline the benchmark compares against. @defaultValue batch
   */
  applyMode?: "batch" | "per-event";
  /** Partition batches handled at once; those waiting together share one transaction. @defaultValue 1 */
  concurrency?: number;
  /** Ingest transactions in flight at once. @defaultValue 2 */
  transactions?: number;
  onCommitted?: (events: readonly AcceptedEvent[], committedAt: number) => void;
  onFatal?: (error: Error) => void;
  /** How far past the machine's clock an event time may be (decoder and watermark). @defaultValue 1 day */
  maxFutureSkewMs?: number;
  /** Follow-ups move from Postgres into BullMQ when due within this. @defaultValue 300000 */
  followUpHorizonMs?: number;
}

/** Wires the lifecycle consumer and the outbox relay; main.ts and the tests build it through here. */
export async function createIngestService(deps: IngestServiceDeps) {
  const stageChangedTopic = deps.stageChangedTopic ?? TOPICS.stageChanged;
  const admin = deps.kafka.admin();
  await admin.connect();
  try {
    const created = await ensureTopics(admin, [...deps.inputTopics, deps.dlqTopic, stageChangedTopic].map((topic) => ({ topic })), deps.topicPartitions);
    if (created.length) deps.logger.info({ topics: created }, "created missing topics");
  } finally {
    await admin.disconnect();
  }

  // The dead-letter producer waits for all in-sync replicas but is not idempotent: kafkajs's
  // idempotence needs unbounded retries, which would stall the consumer through a broker outage.
  // A dead letter written twice (after a redelivery) carries the same source offset headers.
  const producer: Producer = deps.kafka.producer({
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();

  const metrics = deps.metrics ?? createIngestMetrics();
  const publishStageChanges = stageChangePublisher(producer, stageChangedTopic);
  const clock = createClock({ mode: deps.clock ?? "wall", maxFutureSkewMs: deps.maxFutureSkewMs });
  const applyDeps = createApplyDeps({
    pool: deps.pool,
    rates: deps.rates,
    clock,
    settings: deps.engineSettings,
    modelCacheMs: deps.modelCacheMs,
  });
  const { outbox } = applyDeps;
  const now = async () => (await clock.read(deps.pool)) ?? new Date();
  const relay = createOutboxRelay({
    pool: deps.pool,
    outbox,
    followUps: deps.followUps,
    now,
    publishStageChanges,
    logger: deps.logger,
    metrics: createRelayMetrics(metrics.registry),
    horizonMs: deps.followUpHorizonMs,
  });

  const decode = (value: Buffer | null, headers: KafkaHeaders) => decodeForIngest(value, headers, { rates: deps.rates, maxFutureSkewMs: deps.maxFutureSkewMs });

  const applyOneByOne = async (events: readonly AcceptedEvent[]): Promise<ApplyOutcome> => {
    let total: ApplyOutcome = { applied: 0, duplicates: 0, outboxed: 0, transitions: 0 };
    for (const e of events) total = addOutcomes(total, await applyEvents(applyDeps, [e]));
    return total;
  };

  // The naive baseline keeps its old shape: each partition batch on its own, one transaction per event.
  const merger =
    deps.applyMode === "per-event"
      ? createBatchMerger({ apply: applyOneByOne, fullAt: 1, lingerMs: 0, maxEvents: 1, maxInFlight: deps.transactions ?? 2 })
      : createBatchMerger({ apply: (events) => applyEvents(applyDeps, events), fullAt: deps.concurrency ?? 1, maxInFlight: deps.transactions ?? 2 });

  const consumer = new LifecycleEventsConsumer({
    kafka: deps.kafka,
    groupId: deps.groupId,
    sessionTimeoutMs: deps.sessionTimeoutMs,
    topics: deps.inputTopics,
    decode,
    deadLetters: createDeadLetterWriter({ producer, topic: deps.dlqTopic }),
    apply: async (events, wanted) => {
      const share = await merger.apply(events, wanted);
      if (share.outcome.outboxed) relay.wake();
      return share;
    },
    concurrency: deps.concurrency,
    onCommitted: deps.onCommitted,
    metrics,
    logger: deps.logger,
    onFatal: deps.onFatal,
  });

  return {
    consumer,
    metrics,
    async start() {
      relay.start();
      const joined = consumer.waitUntilJoined();
      await consumer.start();
      await joined;
    },
    async stop() {
      await consumer.stop();
      await relay.stop();
      await producer.disconnect();
    },
  };
}
export type IngestService = Awaited<ReturnType<typeof createIngestService>>;
export { createIngestMetrics, type IngestMetrics } from "./ingest-metrics.js";
