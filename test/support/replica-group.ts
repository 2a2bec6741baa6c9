// The consumer group of several ingest processes, seen from the broker: which process owns which
// partitions and whether work is left on them. Each process runs with its own KAFKA_CLIENT_ID, so
// its member is found by client id (`<KAFKA_CLIENT_ID>-ingest`).
import type { Kafka } from "kafkajs";
import { groupMembers, groupProgress, waitFor, type GroupMember, type ServiceProcess } from "@lifecycle/testkit";

export function watchGroup({ kafka, groupId, topics, clientIdOf }: { kafka: Kafka; groupId: string; topics: readonly string[]; clientIdOf: (replica: ServiceProcess) => string }) {
  const memberOf = async (replica: ServiceProcess): Promise<GroupMember | undefined> =>
    (await groupMembers(kafka, groupId)).members.find((m) => m.clientId === clientIdOf(replica));
  const key = (p: { topic: string; partition: number }) => `${p.topic}:${p.partition}`;
  /** Committed offset of each partition, by `topic:partition`. */
  const committed = async () => new Map((await groupProgress(kafka, groupId, topics)).map((p) => [key(p), p.committed]));

  return {
    memberOf,
    committed,
    /** Waits until `replica` owns partitions in a settled group; returns its member. */
    ownsPartitions: (replica: ServiceProcess) =>
      waitFor(`${replica.name} to own partitions`, async () => {
        const [group, member] = [await groupMembers(kafka, groupId), await memberOf(replica)];
        return group.state === "Stable" && member && member.partitions.length > 0 ? member : undefined;
      }, { timeoutMs: 60_000, intervalMs: 250 }),
    /** Waits until `replica` owns partitions with messages not yet committed; returns its member. */
    ownsPendingWork: (replica: ServiceProcess) =>
      waitFor(`${replica.name} to own partitions with pending work`, async () => {
        const member = await memberOf(replica);
        if (!member || member.partitions.length === 0) return undefined;
        const owned = new Set(member.partitions.map(key));
        const pending = (await groupProgress(kafka, groupId, topics)).filter((p) => owned.has(key(p))).reduce((n, p) => n + p.high - p.committed, 0);
        return pending > 0 ? member : undefined;
      }, { timeoutMs: 30_000, intervalMs: 250 }),
    /** Waits until the group is settled without `replica` (killed: once its session has timed out). */
    dropped: (replica: ServiceProcess) =>
      waitFor(`the group to drop ${replica.name}`, async () => {
        const group = await groupMembers(kafka, groupId);
        return group.state === "Stable" && group.members.every((m) => m.clientId !== clientIdOf(replica)) ? true : undefined;
      }, { timeoutMs: 60_000, intervalMs: 250 }),
    /** The partitions of `member` whose committed offset moved past `before`. */
    advancedSince: async (member: GroupMember, before: Map<string, number>) => {
      const now = await committed();
      return member.partitions.filter((p) => (now.get(key(p)) ?? 0) > (before.get(key(p)) ?? 0));
    },
  };
}
