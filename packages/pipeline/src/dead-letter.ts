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

/**
 * Sends rejected messages to the dead-letter topic with their original key, bytes and headers,
 * plus `dlq_*` headers saying where they came from and why (machine-readable JSON reason).
 */
export function createDeadLetterWriter({ producer, topic }: { producer: Producer; topic: string }) {
  return {
    async send(letters: readonly DeadLetter[]): Promise<void> {
      if (letters.length === 0) return;
      await producer.send({
        topic,
        acks: -1,
        messages: letters.map((l) => ({
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
    },
  };
}
export type DeadLetterWriter = ReturnType<typeof createDeadLetterWriter>;
