import { Partitioners, type Kafka, type Message } from "kafkajs";
import { topicForType, TOPICS, type InputTopics } from "@lifecycle/events";
import { ensureTopics } from "@lifecycle/kafka";
import { detectFormat, readEventFile, type FileFormat } from "./event-files.js";

export interface ReplayResult {
  format: FileFormat;
  sent: number;
  seconds: number;
  /** For CDNOW files: what the file holds, to check Postgres against. */
  cdnow?: { rows: number; customers: number; cents: bigint };
}

export interface ReplayOptions {
  kafka: Kafka;
  path: string;
  format?: FileFormat;
  topics?: InputTopics;
  /** Messages per produce request. @defaultValue 2000 */
  chunk?: number;
  onProgress?: (sent: number) => void;
}

/** Streams a file of events into the input topics, keyed by customer, in produce batches. */
export async function replayFile({ kafka, path, format, topics = TOPICS, chunk = 2_000, onProgress }: ReplayOptions): Promise<ReplayResult> {
  const fmt = format ?? (await detectFormat(path));
  // The replay may run before the ingest service ever has: create the input topics it needs.
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, Object.values(topics).map((topic) => ({ topic }))).finally(() => admin.disconnect());
  // Replayed events carry deterministic ids, so a duplicate from a retried send is harmless:
  // acks from all in-sync replicas, without kafkajs's (experimental) idempotence.
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
  await producer.connect();
  const t0 = Date.now();
  let sent = 0;
  const customers = new Set<string>();
  let cents = 0n;
  let pending = new Map<string, Message[]>();
  let pendingCount = 0;

  const flush = async () => {
    if (pendingCount === 0) return;
    await producer.sendBatch({ acks: -1, topicMessages: [...pending].map(([topic, messages]) => ({ topic, messages })) });
    sent += pendingCount;
    pending = new Map();
    pendingCount = 0;
    onProgress?.(sent);
  };

  try {
    for await (const record of readEventFile(path, fmt)) {
      const topic = topicForType(record.type, topics);
      const list = pending.get(topic) ?? [];
      list.push({ key: record.key, value: record.value });
      pending.set(topic, list);
      pendingCount++;
      if (record.amount !== undefined && record.key) {
        customers.add(record.key);
        cents += toCents(record.amount);
      }
      if (pendingCount >= chunk) await flush();
    }
    await flush();
  } finally {
    await producer.disconnect();
  }
  const seconds = (Date.now() - t0) / 1000;
  return { format: fmt, sent, seconds, ...(fmt === "cdnow" ? { cdnow: { rows: sent, customers: customers.size, cents } } : {}) };
}

/** "12.3" → 1230n: exact, no floating point. */
export function toCents(amount: string): bigint {
  const [whole = "0", frac = ""] = amount.split(".");
  return BigInt(whole) * 100n + BigInt((frac + "00").slice(0, 2));
}

export function formatCents(cents: bigint): string {
  const s = cents.toString().padStart(3, "0");
  return `${s.slice(0, -2).replace(/\B(?=(\d{3})+(?!\d))/g, ",")}.${s.slice(-2)}`;
}
