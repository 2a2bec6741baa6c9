import type { Admin } from "kafkajs";

export interface TopicSpec {
  topic: string;
  numPartitions?: number;
  /** Topic-level configs, e.g. `{ "retention.ms": "-1" }`. */
  configs?: Record<string, string>;
}

/**
 * Creates the topics that do not exist yet (we run with `auto.create.topics.enable=false`, so
 * a typo in a topic name fails loudly instead of creating a stray topic). Idempotent.
 */
export async function ensureTopics(admin: Admin, specs: readonly TopicSpec[], defaultPartitions = 3): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  const missing = specs.filter((s) => !existing.has(s.topic));
  if (missing.length === 0) return [];
  await admin.createTopics({
    waitForLeaders: true,
    topics: missing.map((s) => ({
      topic: s.topic,
      numPartitions: s.numPartitions ?? defaultPartitions,
      replicationFactor: -1,
      configEntries: Object.entries(s.configs ?? {}).map(([name, value]) => ({ name, value })),
    })),
  });
  return missing.map((s) => s.topic);
}
