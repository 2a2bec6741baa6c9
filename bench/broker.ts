// The bench's own Kafka broker (infra/kafka/kafka.sh on a port of its own, C2 JIT on, 1 GiB heap),
// stopped at the end only if this run started it, and the topics the run creates, deleted at the end.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { Kafka } from "kafkajs";
import { ensureTopics } from "@lifecycle/kafka";
import { waitFor } from "@lifecycle/testkit/tools";
import type { Teardown } from "./teardown.js";

const run = promisify(execFile);

export interface BrokerOptions {
  root: string;
  port: string;
  say: (line: string) => void;
  teardown: Teardown;
}

/** Starts the broker unless ours already runs on `port`; registers its stop if this call started it. */
export async function startBroker({ root, port, say, teardown }: BrokerOptions): Promise<{ startedHere: boolean }> {
  const script = `${root}infra/kafka/kafka.sh`;
  const env = { ...process.env, KAFKA_PORT: port, KAFKA_HEAP_OPTS: "-Xms512m -Xmx1g", KAFKA_JVM_EXTRA_OPTS: "-XX:TieredStopAtLevel=4" };
  const status = await run("bash", [script, "status"], { env }).then(
    () => true,
    () => false,
  );
  if (status) {
    say(`kafka: a broker already runs on 127.0.0.1:${port}; using it and leaving it running (only this run's topics are deleted)`);
    return { startedHere: false };
  }
  // Registered first: a start interrupted half-way is stopped too (kafka.sh stop is idempotent).
  teardown.add(`stop the Kafka broker on ${port}`, async () => say((await run("bash", [script, "stop"], { env })).stdout.trim()));
  // kafka.sh can take a broker still between fork and exec for one that exited during start-up;
  // one more try (after a stop) gets past that.
  for (let attempt = 1; ; attempt++) {
    try {
      say((await run("bash", [script, "start"], { env, maxBuffer: 16 * 2 ** 20 })).stdout.trim());
      return { startedHere: true };
    } catch (err) {
      if (attempt >= 2) throw err;
      say(`kafka: the broker did not start (${(err instanceof Error ? err.message : String(err)).split("\n")[1] ?? "?"}); stopping it and trying once more`);
      await run("bash", [script, "stop"], { env });
    }
  }
}

/** Creates topics and deletes them (every one this registry made) at the end. */
export function createTopicRegistry(kafka: Kafka, teardown: Teardown) {
  const made = new Set<string>();
  teardown.add("delete the run's topics", async () => {
    if (made.size === 0) return;
    const admin = kafka.admin();
    await admin.connect();
    try {
      const existing = new Set(await admin.listTopics());
      const topics = [...made].filter((t) => existing.has(t));
      if (topics.length) await admin.deleteTopics({ topics, timeout: 30_000 });
    } finally {
      await admin.disconnect();
    }
  });
  return {
    async create(topics: readonly string[], partitions: number): Promise<void> {
      for (const t of topics) made.add(t);
      const admin = kafka.admin();
      await admin.connect();
      try {
        await ensureTopics(admin, topics.map((topic) => ({ topic })), partitions);
        // A produce to a partition whose leader is not serving yet fails and is retried whole by
        // kafkajs, duplicating what the other partitions took: wait until every leader answers.
        await waitFor(`the leaders of ${topics.join(", ")}`, async () => {
          for (const topic of topics) await admin.fetchTopicOffsets(topic);
          return true;
        }, { timeoutMs: 60_000, intervalMs: 200 });
      } finally {
        await admin.disconnect();
      }
    },
    /** Topics a service creates itself (stage changes, dead letters) are deleted too. */
    adopt(topics: readonly string[]): void {
      for (const t of topics) made.add(t);
    },
  };
}
