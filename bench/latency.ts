// Latency from produce to committed state, for services in processes of their own. The ingest
// service commits a batch's offsets only after its Postgres transaction (stage included) has
// committed, so the moment an event's offset is covered by the group's committed offset is an
// upper bound on when its state was committed. Those moments are observed by polling the group's
// offsets every few milliseconds; each event's produce time is its Kafka timestamp, read back
// afterwards. Every figure is therefore at most one poll interval (plus a round trip) late.
import type { Admin, Kafka } from "kafkajs";

type Key = string; // "topic:partition"
const keyOf = (topic: string, partition: number): Key => `${topic}:${partition}`;

/** Per partition: [time, committed offset] each time the offset moved. */
export type CommitHistory = Map<Key, [number, number][]>;

export interface CommitTracker {
  stop(): Promise<{ history: CommitHistory; meanIntervalMs: number }>;
}

export function trackCommits(admin: Admin, groupId: string, topics: readonly string[], intervalMs = 20): CommitTracker {
  const history: CommitHistory = new Map();
  let running = true;
  let polls = 0;
  const t0 = Date.now();
  const loop = (async () => {
    while (running) {
      // A poll lost to a busy broker only widens the interval; the next one comes soon.
      const offsets = await admin.fetchOffsets({ groupId, topics: [...topics] }).catch(() => []);
      const at = Date.now();
      polls++;
      for (const t of offsets) {
        for (const p of t.partitions) {
          const offset = Number(p.offset);
          const list = history.get(keyOf(t.topic, p.partition)) ?? [];
          if (list.length === 0) history.set(keyOf(t.topic, p.partition), list);
          if (list.at(-1)?.[1] !== offset) list.push([at, offset]);
        }
      }
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { history, meanIntervalMs: (Date.now() - t0) / Math.max(1, polls) };
    },
  };
}

export interface ProducedMessage {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
}

/** High watermarks of every partition of `topics` (where the next message will go). */
export async function endOffsets(admin: Admin, topics: readonly string[]): Promise<Map<Key, number>> {
  const ends = new Map<Key, number>();
  for (const topic of topics) for (const p of await admin.fetchTopicOffsets(topic)) ends.set(keyOf(topic, p.partition), Number(p.high));
  return ends;
}

/** Reads back every message from `from` to the current ends (their offsets and produce timestamps). */
export async function readBack(kafka: Kafka, admin: Admin, topics: readonly string[], from: Map<Key, number>, groupId: string, timeoutMs = 120_000): Promise<ProducedMessage[]> {
  const to = await endOffsets(admin, topics);
  const expected = [...to].reduce((n, [k, end]) => n + end - (from.get(k) ?? 0), 0);
  for (const topic of topics) {
    const partitions = [...from].filter(([k]) => k.startsWith(`${topic}:`)).map(([k, offset]) => ({ partition: Number(k.slice(topic.length + 1)), offset: String(offset) }));
    await admin.setOffsets({ groupId, topic, partitions });
  }
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
  const seen: ProducedMessage[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [...topics] });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`(c) read back ${seen.length}/${expected} latency messages in ${timeoutMs / 1000} s`)), timeoutMs);
      if (expected === 0) resolve();
      void consumer.run({
        eachBatch: async ({ batch }) => {
          for (const m of batch.messages) seen.push({ topic: batch.topic, partition: batch.partition, offset: Number(m.offset), timestamp: Number(m.timestamp) });
          if (seen.length >= expected) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
    return seen;
  } finally {
    await consumer.disconnect();
  }
}

/** For each message, ms from its produce timestamp to the first poll that saw its offset committed. */
export function latenciesOf(messages: readonly ProducedMessage[], history: CommitHistory): { latencies: number[]; unseen: number } {
  const latencies: number[] = [];
  let unseen = 0;
  for (const m of messages) {
    const list = history.get(keyOf(m.topic, m.partition)) ?? [];
    // Binary search: the first sample whose committed offset is past the message.
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((list[mid]?.[1] ?? -1) > m.offset) hi = mid;
      else lo = mid + 1;
    }
    const at = list[lo]?.[0];
    if (at === undefined) unseen++;
    else latencies.push(at - m.timestamp);
  }
  return { latencies: latencies.sort((a, b) => a - b), unseen };
}

export const quantile = (sorted: readonly number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
