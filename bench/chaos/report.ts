import type { EventFigures } from "./check-events.js";
import type { FollowUpFigures } from "./check-follow-ups.js";
import type { StageChangeFigures } from "./check-stage-changes.js";
import type { DrainResult } from "./drain.js";
import { countByKind } from "./fault-schedule.js";
import type { FaultRecord } from "./inject-faults.js";
import type { Violation } from "./violation.js";

// A run's summary: what was sent, which faults hit when and how long the system took to recover
// from each, what the drain and the checks found. Written as JSON (for docs/reliability.md) and
// said as text.

export interface FaultOutcome extends FaultRecord {
  /** Ms from the fault's end until the ingest group had committed what the topics held then. */
  recoveryMs?: number | undefined;
  /** Receiver faults: ms from the end until deliveries on that channel resumed. */
  deliveriesResumedMs?: number | undefined;
}

export interface ChaosReport {
  seed: number;
  minutes: number;
  machine: Record<string, unknown>;
  customers: number;
  ratePerSecond: number;
  events: EventFigures;
  producerRetries: { kafka: number; http: number };
  faults: FaultOutcome[];
  faultCounts: Record<string, number>;
  recovery: { maxMs: number | undefined; medianMs: number | undefined; notRecovered: number };
  maxLag: number;
  restarts: { ingest: number; worker: number; api: number };
  drain: DrainResult;
  followUps: FollowUpFigures;
  stageChanges: StageChangeFigures;
  customersCompared: number;
  violations: Violation[];
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)] : undefined;
};

export function recoverySummary(faults: readonly FaultOutcome[]): ChaosReport["recovery"] {
  const times = faults.flatMap((f) => (f.recoveryMs === undefined ? [] : [f.recoveryMs]));
  return { maxMs: times.length ? Math.max(...times) : undefined, medianMs: median(times), notRecovered: faults.length - times.length };
}

export { countByKind };

const s = (ms: number | undefined) => (ms === undefined ? "—" : `${(ms / 1000).toFixed(1)} s`);

/** The report as lines of text. */
export function describeReport(r: ChaosReport, t0: number): string[] {
  const lines = [
    `seed ${r.seed}, ${r.minutes} min, ${r.customers} customers at ${r.ratePerSecond} items/s on ${String(r.machine.cpu)} (${String(r.machine.cores)} cores), ${String(r.machine.date)}`,
    `events: ${r.events.produced} sent (${r.events.distinctValid} distinct valid, ${r.events.duplicatesSent} re-sent copies, ${r.events.bad} bad), ${r.events.recorded} recorded, ${r.events.deadLetters} dead letters; producer retries: Kafka ${r.producerRetries.kafka}, HTTP ${r.producerRetries.http}`,
    `faults: ${r.faults.length} (${Object.entries(r.faultCounts).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(", ")}); restarts by the supervisor: ingest ${r.restarts.ingest}, worker ${r.restarts.worker}, api ${r.restarts.api}`,
    `recovery (ingest lag back to zero for what each fault held up): median ${s(r.recovery.medianMs)}, max ${s(r.recovery.maxMs)}, not recovered ${r.recovery.notRecovered}; max lag ${r.maxLag}`,
  ];
  for (const f of r.faults) {
    const deliveries = f.deliveriesResumedMs === undefined ? "" : `, deliveries resumed after ${s(f.deliveriesResumedMs)}`;
    lines.push(`  +${((f.startedAt - t0) / 1000).toFixed(1).padStart(6)} s ${f.kind.padEnd(16)} ${f.error ? `FAILED: ${f.error}` : f.detail}; recovered in ${s(f.recoveryMs)}${deliveries}`);
  }
  const o = r.followUps;
  lines.push(
    `drain: ${r.drain.drained ? "complete" : "INCOMPLETE"} in ${s(r.drain.ms)}`,
    `follow-ups due: ${o.due} (${Object.entries(o.outcomes).map(([k, n]) => `${k} ${n}`).join(", ")}); delivered webhook ${o.delivered.webhook} + e-mail ${o.delivered.email} jobs, duplicate deliveries webhook ${o.duplicateDeliveries.webhook}, e-mail ${o.duplicateDeliveries.email}; delivered but not recorded sent ${o.deliveredNotSent}`,
    `stage changes: ${r.stageChanges.recorded} recorded, ${r.stageChanges.messages} messages (${r.stageChanges.repeats} repeats of an id)`,
    `customers compared with the reference model: ${r.customersCompared}`,
    r.violations.length === 0 ? "violations: none" : `VIOLATIONS: ${r.violations.length}`,
  );
  for (const v of r.violations.slice(0, 40)) {
    lines.push(`  [${v.check}]${v.customerId ? ` ${v.customerId}:` : ""} ${v.detail}${v.events?.length ? ` (events ${v.events.join(", ")})` : ""}`);
  }
  if (r.violations.length > 40) lines.push(`  … ${r.violations.length - 40} more in the JSON report`);
  return lines;
}
