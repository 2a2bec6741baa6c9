import type { Kafka } from "kafkajs";
import { groupProgress, type PartitionProgress } from "@lifecycle/testkit/tools";

// Samples where the ingest group stands on the input topics, once a second, for the whole run. A
// fault's recovery time is read from the samples: from the fault's end until the group had
// committed everything the topics held when it ended (lag back to zero for what the outage held
// up, while new events keep coming).

export interface LagSample {
  at: number;
  progress: PartitionProgress[];
}

const lagOf = (s: LagSample) => s.progress.reduce((n, p) => n + p.high - p.committed, 0);

export function startLagMonitor({ kafka, groupId, topics, everyMs = 1_000 }: { kafka: Kafka; groupId: string; topics: readonly string[]; everyMs?: number }) {
  const samples: LagSample[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const at = Date.now();
      // The broker may be down (a fault): that second has no sample.
      const progress = await groupProgress(kafka, groupId, topics).catch(() => undefined);
      if (progress) samples.push({ at, progress });
      await new Promise((r) => setTimeout(r, Math.max(0, everyMs - (Date.now() - at))));
    }
  })();

  return {
    samples,
    /** Ms from `endedAt` until the group had committed what the topics held then; undefined if it never did while sampled. */
    recoveryMs(endedAt: number): number | undefined {
      const target = samples.find((s) => s.at >= endedAt);
      if (!target) return undefined;
      const caughtUp = samples.find(
        (s) => s.at >= target.at && target.progress.every((t) => s.progress.some((p) => p.topic === t.topic && p.partition === t.partition && p.committed >= t.high)),
      );
      return caughtUp ? Math.max(0, caughtUp.at - endedAt) : undefined;
    },
    /** The largest lag sampled, and the latest. */
    maxLag: () => samples.reduce((m, s) => Math.max(m, lagOf(s)), 0),
    latestLag: () => {
      const last = samples.at(-1);
      return last ? lagOf(last) : undefined;
    },
    async stop(): Promise<void> {
      running = false;
      await loop;
    },
  };
}
export type LagMonitor = ReturnType<typeof startLagMonitor>;
