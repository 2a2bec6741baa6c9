import type { Admin, ConfigResourceTypes } from "kafkajs";

// kafkajs is CommonJS, and Node's ESM loader does not see its ConfigResourceTypes export by name
// (its reading of module.exports stops at `CompressionTypes: Compression.Types`): a named import
// works under tsx and vitest but not in the production build. The protocol's value for a topic.
const TOPIC: ConfigResourceTypes.TOPIC = 2;

/** How long a topic keeps its records, as the broker will apply it (topic override or broker default). */
export interface TopicRetention {
  topic: string;
  /** `retention.ms`; -1: kept without a time limit. */
  retentionMs: number;
  /** `segment.ms`: a segment is deleted whole, once its newest record is past retention, so a record can outlive `retentionMs` by this much. */
  segmentMs: number;
  /** `cleanup.policy` without `delete` (compact only): records are never deleted by age. */
  compactOnly: boolean;
}

const CONFIG_NAMES = ["retention.ms", "segment.ms", "cleanup.policy"];

/** Reads the retention of `topics` (DescribeConfigs; a managed Kafka's ACLs must allow it). */
export async function describeTopicRetention(admin: Admin, topics: readonly string[]): Promise<TopicRetention[]> {
  const { resources } = await admin.describeConfigs({
    includeSynonyms: false,
    resources: topics.map((name) => ({ type: TOPIC, name, configNames: CONFIG_NAMES })),
  });
  return resources.map((resource) => {
    if (resource.errorCode) throw new Error(`could not read the configuration of topic ${resource.resourceName}: ${resource.errorMessage ?? `error code ${resource.errorCode}`}`);
    const value = (name: string) => {
      const entry = resource.configEntries.find((e) => e.configName === name);
      if (entry?.configValue == null) throw new Error(`topic ${resource.resourceName} reported no ${name}`);
      return entry.configValue;
    };
    return {
      topic: resource.resourceName,
      retentionMs: Number(value("retention.ms")),
      segmentMs: Number(value("segment.ms")),
      compactOnly: !value("cleanup.policy").split(",").map((p) => p.trim()).includes("delete"),
    };
  });
}

/**
 * The topic that can hold a record longest, and for how long (ms): its retention plus one segment's
 * roll time; Infinity when it keeps records without a time limit (retention.ms -1, or compact only).
 */
export function longestKept(topics: readonly TopicRetention[]): { topic: string; ms: number } | undefined {
  let longest: { topic: string; ms: number } | undefined;
  for (const t of topics) {
    const ms = t.compactOnly || t.retentionMs < 0 ? Infinity : t.retentionMs + Math.max(0, t.segmentMs);
    if (!longest || ms > longest.ms) longest = { topic: t.topic, ms };
  }
  return longest;
}
