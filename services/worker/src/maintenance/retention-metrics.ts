import { Counter, Gauge, type Registry } from "prom-client";
import type { RetentionResult } from "@lifecycle/db";

/**
 * What retention removed, by kind: event payloads (rows of dropped months), event ids past the
 * dedupe window, spent outbox rows, job outcomes; and when it last completed. A last run older
 * than two intervals means the tables grow again: alert on it.
 */
export function createRetentionMetrics(registry: Registry) {
  const removed = new Counter({
    name: "lifecycle_retention_removed_total",
    help: "Rows removed by retention, by kind (event_payloads, event_ids, outbox_rows, job_outcomes)",
    labelNames: ["kind"] as const,
    registers: [registry],
  });
  const lastRun = new Gauge({
    name: "lifecycle_retention_last_run_timestamp_seconds",
    help: "When the last retention run completed (Unix time)",
    registers: [registry],
  });
  return {
    record(result: RetentionResult, at: Date) {
      removed.inc({ kind: "event_payloads" }, result.payloadMonthsDropped.reduce((n, m) => n + m.events, 0));
      removed.inc({ kind: "event_ids" }, result.eventIds);
      removed.inc({ kind: "outbox_rows" }, result.outboxRows);
      removed.inc({ kind: "job_outcomes" }, result.jobOutcomes);
      lastRun.set(at.getTime() / 1000);
    },
  };
}
