// Consumers that run inside the bench process: (a) the raw kafkajs drain and the ingest service in
// the naive per-event mode (d), with its batch mode on the same sample (b′), which the ingest main
// cannot be asked for. Each survives an eviction: kafkajs rejoins by itself, and a consumer that
// stops for good (a non-retriable crash) is replaced, as a supervisor would restart the process.
import type { Kafka } from "kafkajs";
import type { Pool } from "@lifecycle/db";
import { createIngestService } from "@lifecycle/ingest";
import type { Logger } from "@lifecycle/logging";
import { createFollowUpQueues, createRedisConnection } from "@lifecycle/queue";
import { fmt } from "./format.js";
import type { Teardown } from "./teardown.js";

/**
 * A do-nothing consumer group over `topics` until every partition's last offset has been seen.
 * Counts by offset, not by message, so a batch redelivered after a rejoin is not counted twice.
 */
export async function rawDrain({ kafka, groupId, topics, concurrency, teardown, say }: { kafka: Kafka; groupId: string; topics: readonly string[]; concurrency: number; teardown: Teardown; say: (l: string) => void }) {
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map<string, number>();
  for (const t of topics) for (const p of await admin.fetchTopicOffsets(t)) ends.set(`${t}:${p.partition}`, Number(p.high));
  await admin.disconnect();
  const total = [...ends.values()].reduce((a, b) => a + b, 0);
  const seen = new Map<string, number>();
  const consumed = () => [...seen.values()].reduce((a, b) => a + b, 0);
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (finish = resolve));
  let restarts = 0;
  let stop: () => Promise<void> = async () => undefined;

  const start = async (): Promise<void> => {
    const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
    const release = teardown.add(`stop the raw consumer ${groupId}`, () => consumer.disconnect());
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (payload.restart) return;
      restarts++;
      say(`(a) the raw consumer stopped for good (${payload.error.message}); starting a new one`);
      void release().then(start);
    });
    stop = release;
    await consumer.connect();
    await consumer.subscribe({ topics: [...topics], fromBeginning: true });
    await consumer.run({
      partitionsConsumedConcurrently: concurrency,
      eachBatch: async ({ batch }) => {
        const key = `${batch.topic}:${batch.partition}`;
        seen.set(key, Math.max(seen.get(key) ?? 0, Number(batch.lastOffset()) + 1));
        if (consumed() >= total) finish();
      },
    });
  };
  const t0 = Date.now();
  await start();
  const progress = setInterval(() => say(`(a) ${fmt(consumed())}/${fmt(total)} events drained`), 5_000);
  try {
    await done;
  } finally {
    clearInterval(progress);
  }
  const seconds = (Date.now() - t0) / 1000;
  await stop();
  return { events: total, seconds, restarts };
}

export interface InProcessIngest {
  restarts(): number;
  stop(): Promise<void>;
}

/**
 * The ingest service wired as its main wires it (engine, follow-ups and relay on), inside this
 * process. A consumer that stops for good is replaced by a new service on the same group.
 */
export async function startInProcessIngest(o: {
  kafka: Kafka;
  pool: Pool;
  redisUrl: string;
  prefix: string;
  logger: Logger;
  groupId: string;
  topics: readonly string[];
  dlqTopic: string;
  stageChangedTopic: string;
  partitions: number;
  concurrency: number;
  mode: "batch" | "per-event";
  teardown: Teardown;
  say: (l: string) => void;
}): Promise<InProcessIngest> {
  const redis = createRedisConnection(o.redisUrl, "bench-in-process");
  const followUps = createFollowUpQueues({ connection: redis, prefix: o.prefix });
  const releaseRedis = o.teardown.add(`close the in-process ingest's Redis (${o.groupId})`, async () => {
    await followUps.close();
    redis.disconnect();
  });
  let restarts = 0;
  let releaseService: () => Promise<void> = async () => undefined;
  const start = async (): Promise<void> => {
    const s = await createIngestService({
      kafka: o.kafka, pool: o.pool, followUps, logger: o.logger, groupId: o.groupId, inputTopics: o.topics, dlqTopic: o.dlqTopic, stageChangedTopic: o.stageChangedTopic,
      topicPartitions: o.partitions, rates: { USD: "1" }, clock: "watermark", applyMode: o.mode, concurrency: o.concurrency,
      onFatal: (err) => {
        restarts++;
        o.say(`the in-process ingest consumer stopped for good (${err.message}); starting a new service on the same group`);
        void releaseService().then(start);
      },
    });
    releaseService = o.teardown.add(`stop the in-process ingest service (${o.groupId})`, () => s.stop());
    await s.start();
  };
  await start();
  return {
    restarts: () => restarts,
    async stop() {
      await releaseService();
      await releaseRedis();
    },
  };
}
