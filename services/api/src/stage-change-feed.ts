import { hostname } from "node:os";
import type { Kafka } from "kafkajs";
import { StageChanged } from "@lifecycle/events";
import type { Logger } from "@lifecycle/logging";
import type { StageChangeFeed } from "./deps.js";

/**
 * Stage changes from `lifecycle-stage-changed`, fanned out to in-process listeners (the SSE
 * streams). Every API instance needs every change, so each has its own consumer group and starts
 * at the end of the topic: live alerts, not history (history is GET /v1/customers/:id/timeline).
 */
export async function startStageChangeFeed({ kafka, topic, logger }: { kafka: Kafka; topic: string; logger: Logger }): Promise<StageChangeFeed & { stop(): Promise<void> }> {
  const listeners = new Set<(e: StageChanged) => void>();
  const consumer = kafka.consumer({ groupId: `lifecycle-api-${hostname()}-${process.pid}-${Date.now()}`, maxWaitTimeInMs: 200 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: false });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const parsed = StageChanged.safeParse(JSON.parse(message.value?.toString() ?? "null"));
      if (!parsed.success) return logger.warn({ offset: message.offset }, "skipping a message that is not a stage change");
      for (const listener of listeners) listener(parsed.data);
    },
  });
  return {
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    stop: () => consumer.disconnect(),
  };
}
