import type { Producer } from "kafkajs";
import { topicForType, type InputTopics } from "@lifecycle/events";

/**
 * Produces events to their input topics (the type decides), keyed by customer id so one
 * customer's events stay ordered, in one request, waiting for every in-sync replica. The API's
 * POST /v1/events, the demo and the benchmark all produce through it.
 */
export function createEventPublisher({ producer, topics }: { producer: Producer; topics?: InputTopics | undefined }) {
  return async (events: readonly { type: string; subject: string }[]): Promise<void> => {
    const byTopic = new Map<string, { key: string; value: string }[]>();
    for (const e of events) {
      const topic = topicForType(e.type, topics);
      const list = byTopic.get(topic) ?? [];
      if (!byTopic.has(topic)) byTopic.set(topic, list);
      list.push({ key: e.subject, value: JSON.stringify(e) });
    }
    await producer.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
  };
}
export type EventPublisher = ReturnType<typeof createEventPublisher>;
