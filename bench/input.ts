// The bench's input: the CDNOW master file (69,659 real purchases) followed by a seeded synthetic
// mix over `customers` customers. The same stream feeds the Postgres floor and every topic, so
// each phase works on exactly the same events.
import { readFileSync } from "node:fs";
import { Partitioners, type Kafka } from "kafkajs";
import { createCdnowMapper, parseCdnowLine, syntheticEvents, type CloudEventEnvelope, type InputTopics } from "@lifecycle/events";
import { createEventPublisher } from "@lifecycle/kafka";
import { fmt as n } from "./format.js";

export function cdnowEvents(path: string): CloudEventEnvelope[] {
  const toEvent = createCdnowMapper();
  return readFileSync(path, "utf8")
    .split("\n")
    .flatMap((line) => {
      const row = parseCdnowLine(line);
      return row ? [toEvent(row)] : [];
    });
}

export const synthetic = ({ count, customers, prefix, seed }: { count: number; customers: number; prefix: string; seed: number }) =>
  syntheticEvents({ seed, customers, count, start: new Date("1997-01-01T00:00:00Z"), end: new Date("1998-07-01T00:00:00Z"), prefix });

export function* benchInput(cdnow: readonly CloudEventEnvelope[], { count, customers }: { count: number; customers: number }): Generator<CloudEventEnvelope> {
  yield* cdnow;
  yield* synthetic({ count, customers, prefix: "syn-", seed: 1 });
}

/**
 * Produces `events` (5,000 a request, acks from all in-sync replicas) to fresh topics, then checks
 * that they hold exactly `total` messages. A progress line every 5 s.
 */
export async function produceAll(kafka: Kafka, topics: InputTopics, events: Iterable<CloudEventEnvelope>, total: number, say: (line: string) => void): Promise<number> {
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
  await producer.connect();
  let sent = 0;
  try {
    const publish = createEventPublisher({ producer, topics });
    const t0 = Date.now();
    let lastPrint = t0;
    let pending: CloudEventEnvelope[] = [];
    const flush = async () => {
      await publish(pending);
      sent += pending.length;
      pending = [];
      if (Date.now() - lastPrint >= 5_000) {
        lastPrint = Date.now();
        say(`(input) ${n(sent)}/${n(total)} events produced, ${n(sent / ((lastPrint - t0) / 1000))}/s`);
      }
    };
    for (const e of events) {
      pending.push(e);
      if (pending.length === 5_000) await flush();
    }
    if (pending.length) await flush();
  } finally {
    await producer.disconnect();
  }
  // Every figure counts these messages: a retried produce request must not have doubled any.
  const admin = kafka.admin();
  await admin.connect();
  try {
    const inTopics = (await Promise.all(Object.values(topics).map((t) => admin.fetchTopicOffsets(t)))).flat().reduce((a, p) => a + Number(p.high) - Number(p.low), 0);
    if (inTopics !== total) throw new Error(`produced ${total} events but the input topics hold ${inTopics} messages (a retried produce request duplicated some); run the bench again`);
    return total;
  } finally {
    await admin.disconnect();
  }
}
