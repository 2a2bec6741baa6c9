import { hostname } from "node:os";
import type { Kafka } from "kafkajs";
import { StageTopicEvent, type StageChanged } from "@lifecycle/events";
import type { Logger } from "@lifecycle/logging";
import type { StageChangeFeed } from "./deps.js";

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Stage changes from `lifecycle-stage-changed`, fanned out to in-process listeners (the SSE
 * streams). Every API instance needs every change, so each has its own consumer group and starts
 * at the end of the topic: live alerts, not history (history is GET /v1/customers/:id/timeline).
 */
export async function startStageChangeFeed({
  kafka,
  topic,
  logger,
  joinTimeoutMs = 30_000,
}: {
  kafka: Kafka;
  topic: string;
  logger: Logger;
  /** How long to wait for the consumer group to form. @defaultValue 30000 */
  joinTimeoutMs?: number;
}): Promise<StageChangeFeed & { stop(): Promise<void> }> {
  const listeners = new Set<(e: StageChanged) => void>();
  const consumer = kafka.consumer({ groupId: `lifecycle-api-${hostname()}-${process.pid}-${Date.now()}`, maxWaitTimeInMs: 200 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: false });
  // Return once the group has formed, so the API is not up while deaf to stage changes.
  const joined = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the stage-change feed did not join its group within ${joinTimeoutMs} ms`)), joinTimeoutMs);
    const off = consumer.on(consumer.events.GROUP_JOIN, () => {
      clearTimeout(timer);
      off();
      resolve();
    });
  });
  joined.catch(() => undefined); // awaited below; handled here too in case run() throws first
  await consumer.run({
    eachMessage: async ({ message }) => {
      const parsed = StageTopicEvent.safeParse(parseJson(message.value?.toString() ?? ""));
      if (!parsed.success) return logger.warn({ offset: message.offset }, "skipping a message that is not a stage change");
      // Erasures share the topic (for CRMs); the live alerts are about stages only.
      const event = parsed.data;
      if (event.type !== "lifecycle.stage.changed") return;
      for (const listener of listeners) {
        // One failing listener must not stop the others, nor make kafkajs redeliver the message.
        try {
          listener(event);
        } catch (err) {
          logger.error({ err }, "a stage-change listener failed");
        }
      }
    },
  });
  await joined.catch(async (err: unknown) => {
    await consumer.disconnect();
    throw err;
  });
  return {
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    stop: () => consumer.disconnect(),
  };
}
