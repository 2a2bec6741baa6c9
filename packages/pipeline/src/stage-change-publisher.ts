import type { Producer } from "kafkajs";
import type { StageTopicEvent } from "@lifecycle/events";

/**
 * Produces stage changes (and erasures, `lifecycle.customer.erased`) to their topic, keyed by customer so one customer's changes stay in
 * order, waiting for every in-sync replica. The CloudEvents id and type ride along as headers.
 */
export function stageChangePublisher(producer: Producer, topic: string) {
  return async (events: readonly StageTopicEvent[]): Promise<void> => {
    await producer.send({ topic, acks: -1, messages: events.map((e) => ({ key: e.subject, value: JSON.stringify(e), headers: { ce_id: e.id, ce_type: e.type } })) });
  };
}
