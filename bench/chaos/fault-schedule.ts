import { seededRandom } from "@lifecycle/events";

// The faults of a chaos run, drawn from its seed alone: the same seed gives the same schedule
// (kinds, targets, times, durations), so a run that found a violation can be repeated.

export const FAULT_KINDS = [
  "sigkill-ingest",
  "sigterm-ingest",
  "sigkill-worker",
  "sigterm-worker",
  "sigkill-api",
  "sigterm-api",
  "broker-restart",
  "postgres-restart",
  "redis-restart",
  "webhook-fail",
  "webhook-hang",
  "smtp-fail",
  "smtp-hang",
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface Fault {
  /** When it starts, in ms after the stream started. */
  at: number;
  kind: FaultKind;
  /** Which replica (ingest and worker run two); 0 for the others. */
  target: number;
  /** How long the outage lasts: the time down for a restart, the time a receiver fails or hangs; 0 for a signal. */
  durationMs: number;
  /** A restart's stop: a crash (`kill`) or a controlled shutdown (`term`). */
  how: "kill" | "term";
}

// Weights: process deaths are the commonest real fault, then receivers misbehaving, then the
// stateful services restarting.
const WEIGHTS: Record<FaultKind, number> = {
  "sigkill-ingest": 4,
  "sigterm-ingest": 2,
  "sigkill-worker": 3,
  "sigterm-worker": 2,
  "sigkill-api": 1,
  "sigterm-api": 1,
  "broker-restart": 2,
  "postgres-restart": 2,
  "redis-restart": 2,
  "webhook-fail": 2,
  "webhook-hang": 1,
  "smtp-fail": 2,
  "smtp-hang": 1,
};

/** [min, max] outage in ms per kind (signals have none: the supervisor restarts the process). */
const DURATION: Partial<Record<FaultKind, [number, number]>> = {
  "broker-restart": [1_000, 8_000],
  "postgres-restart": [1_000, 8_000],
  "redis-restart": [1_000, 5_000],
  "webhook-fail": [3_000, 20_000],
  "webhook-hang": [3_000, 15_000],
  "smtp-fail": [3_000, 20_000],
  "smtp-hang": [3_000, 15_000],
};

/** The resource a fault takes away: two faults on one resource never overlap. */
export function resourceOf(f: Pick<Fault, "kind" | "target">): string {
  // "sigkill-ingest" → "ingest-0"; "broker-restart" → "broker"; "webhook-hang" → "webhook".
  const [first = "", second = ""] = f.kind.split("-");
  return first.startsWith("sig") ? `${second}-${f.target}` : first;
}

export interface ScheduleOptions {
  seed: number;
  /** How long the stream runs, in ms: every fault ends `quietMs` before it stops. */
  streamMs: number;
  /** No fault in the first `warmupMs` (the stack settles). @defaultValue 8000 */
  warmupMs?: number;
  /** The last fault ends this long before the stream stops. @defaultValue 5000 */
  quietMs?: number;
  /** Mean gap between two faults' starts. @defaultValue 12000 */
  meanGapMs?: number;
}

export function faultSchedule({ seed, streamMs, warmupMs = 8_000, quietMs = 5_000, meanGapMs = 12_000 }: ScheduleOptions): Fault[] {
  // A stream of its own: the event stream's draws never shift the faults.
  const rnd = seededRandom(seed ^ 0x5eed_fa17);
  const total = Object.values(WEIGHTS).reduce((s, w) => s + w, 0);
  const pickKind = (): FaultKind => {
    let r = rnd() * total;
    return FAULT_KINDS.find((k) => (r -= WEIGHTS[k]) < 0) ?? "sigkill-ingest";
  };
  const faults: Fault[] = [];
  const busyUntil = new Map<string, number>();
  // Exponential gaps (a Poisson process), at least a second apart.
  for (let at = warmupMs + Math.round(-Math.log(1 - rnd()) * meanGapMs * 0.5); ; at += Math.max(1_000, Math.round(-Math.log(1 - rnd()) * meanGapMs))) {
    const kind = pickKind();
    const target = kind.endsWith("ingest") || kind.endsWith("worker") ? Math.floor(rnd() * 2) : 0;
    const range = DURATION[kind];
    const durationMs = range ? Math.round(range[0] + rnd() * (range[1] - range[0])) : 0;
    const how = rnd() < 0.5 ? "kill" : "term";
    if (at + durationMs > streamMs - quietMs) break;
    const resource = resourceOf({ kind, target });
    // Restarted processes need a few seconds to be back; the next fault of the same one waits.
    if ((busyUntil.get(resource) ?? 0) > at) continue;
    busyUntil.set(resource, at + durationMs + 5_000);
    faults.push({ at, kind, target, durationMs, how });
  }
  return faults;
}

/** Faults counted by kind, every kind listed. */
export function countByKind(faults: readonly Pick<Fault, "kind">[]): Record<string, number> {
  return Object.fromEntries(FAULT_KINDS.map((k) => [k, faults.filter((f) => f.kind === k).length]));
}
