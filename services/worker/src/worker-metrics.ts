import { Counter, Gauge, Registry } from "prom-client";
import type { Queue } from "bullmq";

/**
 * The worker's metrics: follow-up outcomes as they happen, and queue depth per channel and state,
 * read from Redis when scraped (served on /metrics with the HTTP API).
 */
export function createWorkerMetrics(queues: readonly Queue[], registry = new Registry()) {
  const outcomes = new Counter({
    name: "lifecycle_follow_ups_total",
    help: "Follow-up jobs finished, by playbook, channel and outcome (sent, skipped, failed)",
    labelNames: ["playbook", "channel", "status"] as const,
    registers: [registry],
  });
  new Gauge({
    name: "lifecycle_queue_jobs",
    help: "Jobs in each follow-up queue by state",
    labelNames: ["queue", "state"] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const queue of queues) {
        const counts = await queue.getJobCounts("waiting", "delayed", "prioritized", "active", "failed");
        for (const [state, n] of Object.entries(counts)) this.set({ queue: queue.name, state }, n);
      }
    },
  });
  return { registry, outcomes };
}
export type WorkerMetrics = ReturnType<typeof createWorkerMetrics>;
