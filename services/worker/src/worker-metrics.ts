import { Counter, Gauge, Registry } from "prom-client";
import type { Queue } from "bullmq";
import type { CircuitBreaker } from "./channels/circuit-breaker.js";

const CIRCUIT_VALUE = { closed: 0, "half-open": 0.5, open: 1 } as const;

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
  const retriesExhausted = new Counter({
    name: "lifecycle_follow_ups_retries_exhausted_total",
    help: "Follow-ups failed for good after every retry (hours of a failing channel): alert on any increase",
    labelNames: ["channel", "playbook"] as const,
    registers: [registry],
  });
  const circuitOpened = new Counter({
    name: "lifecycle_channel_circuit_opened_total",
    help: "Times a channel's circuit breaker opened (its deliveries failed in a row)",
    labelNames: ["channel"] as const,
    registers: [registry],
  });
  const circuits = new Map<string, CircuitBreaker>();
  new Gauge({
    name: "lifecycle_channel_circuit_state",
    help: "Each channel's circuit breaker in this process: 0 closed, 0.5 half-open (probing), 1 open (jobs wait)",
    labelNames: ["channel"] as const,
    registers: [registry],
    collect() {
      for (const [channel, breaker] of circuits) this.set({ channel }, CIRCUIT_VALUE[breaker.state()]);
    },
  });
  const watchCircuit = (channel: string, breaker: CircuitBreaker) => void circuits.set(channel, breaker);
  return { registry, outcomes, retriesExhausted, circuitOpened, watchCircuit };
}
export type WorkerMetrics = ReturnType<typeof createWorkerMetrics>;
