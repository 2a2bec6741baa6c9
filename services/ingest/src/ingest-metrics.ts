import { Counter, Gauge, Histogram, Registry } from "prom-client";

/** The ingest service's counters; exposed on /metrics once the service has an HTTP endpoint. */
export function createIngestMetrics(registry = new Registry()) {
  return {
    registry,
    events: new Counter({
      name: "lifecycle_ingest_events_total",
      help: "Input events by outcome: applied (first time), duplicate (already recorded), dead_lettered (with the rejection kind)",
      labelNames: ["outcome", "kind"] as const,
      registers: [registry],
    }),
    latency: new Histogram({
      name: "lifecycle_ingest_latency_seconds",
      help: "From the Kafka message timestamp (produce time) to the batch's committed offset, state committed before",
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    }),
    lag: new Gauge({
      name: "lifecycle_ingest_lag_messages",
      help: "Messages behind the partition's high watermark (as fetched) after the last committed batch, per partition this replica owns",
      labelNames: ["topic", "partition"] as const,
      registers: [registry],
    }),
    batchRetries: new Counter({
      name: "lifecycle_ingest_batch_retries_total",
      help: "Batches whose application failed (database or queue away) and was retried",
      registers: [registry],
    }),
  };
}
export type IngestMetrics = ReturnType<typeof createIngestMetrics>;
