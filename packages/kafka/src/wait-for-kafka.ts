import { Kafka, logLevel } from "kafkajs";

/** Polls until a broker answers a metadata request, or throws after `timeoutMs`. */
export async function waitForKafka(brokers: string[], timeoutMs = 60_000): Promise<void> {
  const kafka = new Kafka({ clientId: "wait-for-kafka", brokers, logLevel: logLevel.NOTHING, retry: { retries: 0 } });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const admin = kafka.admin();
    try {
      await admin.connect();
      await admin.describeCluster();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`Kafka at ${brokers.join(",")} did not answer within ${timeoutMs} ms`, { cause: err });
      await new Promise((r) => setTimeout(r, 500));
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }
}
