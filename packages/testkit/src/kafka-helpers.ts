import { AssignerProtocol, Partitioners, type IHeaders, type Kafka } from "kafkajs";

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

/** Where `groupId` stands on one partition: its committed offset (0 before any commit) and the partition's end. */
export interface PartitionProgress {
  topic: string;
  partition: number;
  committed: number;
  high: number;
}

/** `groupId`'s committed offset and the high watermark of every partition of `topics`. */
export async function groupProgress(kafka: Kafka, groupId: string, topics: string | readonly string[]): Promise<PartitionProgress[]> {
  const names = typeof topics === "string" ? [topics] : [...topics];
  const admin = kafka.admin();
  await admin.connect();
  try {
    const committed = await admin.fetchOffsets({ groupId, topics: names });
    const progress: PartitionProgress[] = [];
    for (const topic of names) {
      const done = committed.find((t) => t.topic === topic)?.partitions ?? [];
      for (const end of await admin.fetchTopicOffsets(topic)) {
        const c = Number(done.find((p) => p.partition === end.partition)?.offset ?? "-1");
        progress.push({ topic, partition: end.partition, committed: Math.max(0, c), high: Number(end.high) });
      }
    }
    return progress;
  } finally {
    await admin.disconnect();
  }
}

/** Messages in `topics` that `groupId` has not committed yet (0 when it has caught up). */
export async function consumerLag(kafka: Kafka, groupId: string, topics: string | readonly string[]): Promise<number> {
  return (await groupProgress(kafka, groupId, topics)).reduce((lag, p) => lag + p.high - p.committed, 0);
}

export interface GroupMember {
  memberId: string;
  /** The member's Kafka client id: tells which process it is when each has its own. */
  clientId: string;
  partitions: { topic: string; partition: number }[];
}

/** The group's state as the broker sees it (`Stable` once a rebalance is over) and what each member was assigned. */
export async function groupMembers(kafka: Kafka, groupId: string): Promise<{ state: string; members: GroupMember[] }> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [group] = (await admin.describeGroups([groupId])).groups;
    const members = (group?.members ?? []).map((m) => {
      const assignment = m.memberAssignment.length ? AssignerProtocol.MemberAssignment.decode(m.memberAssignment)?.assignment : undefined;
      const partitions = Object.entries(assignment ?? {}).flatMap(([topic, ps]) => ps.map((partition) => ({ topic, partition })));
      return { memberId: m.memberId, clientId: m.clientId, partitions };
    });
    return { state: group?.state ?? "Dead", members };
  } finally {
    await admin.disconnect();
  }
}
