import { Counter, Registry } from "prom-client";

/** The outbox relay's counters; registered where the process exposes /metrics. */
export function createRelayMetrics(registry = new Registry()) {
  return {
    registry,
    published: new Counter({
      name: "lifecycle_outbox_published_total",
      help: "Outbox messages published (follow-ups moved into BullMQ, stage changes produced to Kafka)",
      labelNames: ["kind"] as const,
      registers: [registry],
    }),
    failed: new Counter({
      name: "lifecycle_outbox_failed_total",
      help: "Outbox messages given up on and skipped: invalid (no longer parses) or publish (kept failing while others went through); last_error holds why",
      labelNames: ["kind", "reason"] as const,
      registers: [registry],
    }),
    stageChanges: new Counter({
      name: "lifecycle_stage_changes_total",
      help: "Stage changes published to the stage-changed topic (what CRMs receive), by the stage entered",
      labelNames: ["to"] as const,
      registers: [registry],
    }),
  };
}
export type RelayMetrics = ReturnType<typeof createRelayMetrics>;
