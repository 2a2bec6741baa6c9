import type { Producer } from "kafkajs";
import { topicForType, type InputTopics } from "@lifecycle/events";
import { activeTraceparent, ATTR, SpanKind, traceparentOf, withSpan } from "@lifecycle/telemetry";

/** What the publisher needs of an event; a `traceparent` it already has is kept. */
interface Publishable {
  type: string;
  subject: string;
  traceparent?: string | undefined;
}

/**
 * Produces events to their input topics (the type decides), keyed by customer id so one
 * customer's events stay ordered, in one request, waiting for every in-sync replica. The API's
 * POST /v1/events, the demo and the benchmark all produce through it.
 *
 * Called inside a trace (the API's request span), the send is a producer span of that trace and
 * each event without a `traceparent` gets the span's, so ingest continues it. Outside one it
 * creates no span and adds nothing.
 */
export function createEventPublisher({ producer, topics }: { producer: Producer; topics?: InputTopics | undefined }) {
  const send = async (events: readonly Publishable[], traceparent: string | undefined): Promise<void> => {
    const byTopic = new Map<string, { key: string; value: string }[]>();
    for (const e of events) {
      const topic = topicForType(e.type, topics);
      const list = byTopic.get(topic) ?? [];
      if (!byTopic.has(topic)) byTopic.set(topic, list);
      list.push({ key: e.subject, value: JSON.stringify(traceparent !== undefined && e.traceparent === undefined ? { ...e, traceparent } : e) });
    }
    await producer.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
  };
  return async (events: readonly Publishable[]): Promise<void> => {
    if (activeTraceparent() === undefined) return send(events, undefined);
    const attributes = { [ATTR.messagingSystem]: "kafka", [ATTR.messagingOperationType]: "send", [ATTR.messagingBatchCount]: events.length };
    return withSpan("send", { kind: SpanKind.PRODUCER, attributes }, (span) => send(events, traceparentOf(span)));
  };
}
export type EventPublisher = ReturnType<typeof createEventPublisher>;
