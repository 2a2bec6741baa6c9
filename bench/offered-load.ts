import { Partitioners, type Kafka } from "kafkajs";
import type { CloudEventEnvelope, InputTopics } from "@lifecycle/events";
import { createEventPublisher } from "@lifecycle/kafka";

/**
 * Produces `events` at a fixed offered rate, in 20 ms ticks, so latency is measured under a known
 * load rather than a burst. Returns how long it took (should be events / rate). `onProgress`
 * hears the count sent after every tick.
 */
export async function produceAtRate(kafka: Kafka, topics: InputTopics, events: Iterable<CloudEventEnvelope>, perSecond: number, onProgress?: (sent: number) => void): Promise<number> {
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
  await producer.connect();
  try {
    const tick = 20;
    const perTick = Math.max(1, Math.round((perSecond * tick) / 1000));
    const t0 = Date.now();
    let sent = 0;
    let batch: CloudEventEnvelope[] = [];
    const publish = createEventPublisher({ producer, topics });
    const flush = async () => {
      await publish(batch);
      sent += batch.length;
      batch = [];
      onProgress?.(sent);
      const due = t0 + (sent / perSecond) * 1000;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    };
    for (const e of events) {
      batch.push(e);
      if (batch.length === perTick) await flush();
    }
    if (batch.length) await flush();
    return (Date.now() - t0) / 1000;
  } finally {
    await producer.disconnect();
  }
}
