import { Partitioners, type IHeaders, type Kafka } from "kafkajs";

/** Produces messages in chunks (one request per chunk), keyed as the caller says. */
export async function produceEvents(
  kafka: Kafka,
  topic: string,
  messages: { key: string | null; value: string | Buffer | null; headers?: IHeaders }[],
  chunk = 1_000,
): Promise<void> {
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
  await producer.connect();
  try {
    for (let i = 0; i < messages.length; i += chunk) {
      await producer.send({ topic, acks: -1, messages: messages.slice(i, i + chunk) });
    }
  } finally {
    await producer.disconnect();
  }
}

export interface ReadMessage {
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
  partition: number;
  offset: string;
}

/** Every message on a topic: as many as its partitions' high watermarks add up to. */
export async function readWholeTopic(kafka: Kafka, topic: string, timeoutMs = 60_000): Promise<ReadMessage[]> {
  const admin = kafka.admin();
  await admin.connect();
  const total = (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high), 0);
  await admin.disconnect();
  return readTopic(kafka, topic, total, timeoutMs);
}

/** Reads a topic from the beginning until `count` messages arrived (or times out). */
export async function readTopic(kafka: Kafka, topic: string, count: number, timeoutMs = 20_000): Promise<ReadMessage[]> {
  const consumer = kafka.consumer({ groupId: `reader-${topic}-${Date.now()}`, maxWaitTimeInMs: 100 });
  const seen: ReadMessage[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    const done = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`read ${seen.length}/${count} messages of ${topic} in ${timeoutMs} ms`)), timeoutMs);
      void consumer.run({
        eachMessage: async ({ message, partition }) => {
          const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]));
          seen.push({ key: message.key?.toString() ?? null, value: message.value, headers, partition, offset: message.offset });
          if (seen.length >= count) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
    await done;
    return seen;
  } finally {
    await consumer.disconnect();
  }
}

/** Messages in `topic` that `groupId` has not committed yet (0 when it has caught up). */
export async function consumerLag(kafka: Kafka, groupId: string, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return ends.reduce((lag, end) => {
      const c = Number(committed?.partitions.find((p) => p.partition === end.partition)?.offset ?? "-1");
      return lag + Number(end.high) - Math.max(0, c);
    }, 0);
  } finally {
    await admin.disconnect();
  }
}
