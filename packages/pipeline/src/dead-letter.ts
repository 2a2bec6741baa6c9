import type { Producer } from "kafkajs";
import type { KafkaHeaders, Rejection } from "@lifecycle/events";
import type { DbRejected } from "./isolate-poison.js";

export interface DeadLetter {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: KafkaHeaders;
  /** Why: the decoder's rejection, or Postgres's refusal (with its SQLSTATE). */
  rejection: Rejection | DbRejected["reason"];
}

/** Bytes of dead letters per produce request: well under the broker's default 1 MiB message.max.bytes. */
const MAX_REQUEST_BYTES = 256 * 1024;

const sizeOf = (l: DeadLetter) =>
  (l.key?.length ?? 0) + (l.value?.length ?? 0) + 512 + Object.entries(l.headers).reduce((n, [k, v]) => n + k.length + (Array.isArray(v) ? v.join("").length : (v?.length ?? 0)), 0);

/** Letters in order, in groups of at most `maxBytes` (a single larger letter goes alone). */
export function chunkLetters(letters: readonly DeadLetter[], maxBytes = MAX_REQUEST_BYTES): DeadLetter[][] {
  const chunks: DeadLetter[][] = [];
  let current: DeadLetter[] = [];
  let bytes = 0;
  for (const l of letters) {
    const size = sizeOf(l);
    if (current.length && bytes + size > maxBytes) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(l);
    bytes += size;
  }
  if (current.length) chunks.push(current);
  return chunks;
}

/**
 * Sends rejected messages to the dead-letter topic with their original key, bytes and headers,
 * plus `dlq_*` headers saying where they came from and why (machine-readable JSON reason).
 * A batch of thousands of rejects goes in several requests: one request larger than the broker
 * accepts would fail on every retry and stall the partition.
 */
export function createDeadLetterWriter({ producer, topic }: { producer: Producer; topic: string }) {
  return {
    async send(letters: readonly DeadLetter[]): Promise<void> {
      for (const chunk of chunkLetters(letters)) {
        await producer.send({
          topic,
          acks: -1,
          messages: chunk.map((l) => ({
            key: l.key,
            value: l.value,
            headers: {
              ...l.headers,
              dlq_source_topic: l.topic,
              dlq_source_partition: String(l.partition),
              dlq_source_offset: l.offset,
              dlq_reason: JSON.stringify(l.rejection),
            },
          })),
        });
      }
    },
  };
}
export type DeadLetterWriter = ReturnType<typeof createDeadLetterWriter>;
