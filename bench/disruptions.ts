// Consumer-group disruptions, counted per phase from what the consumers log (kafkajs routes its
// warnings through the process's pino logger) and from the group as the broker describes it.
import { readFileSync } from "node:fs";
import { Writable } from "node:stream";
import type { Disruptions } from "./ingest-report.js";

type DisruptionKind = "eviction" | "rebalance" | "crash";

/** kafkajs's and our consumer's log messages, by what they mean. */
const PATTERNS: [DisruptionKind, string][] = [
  // kafkajs's own line for every crash (ours adds "consumer crashed" for the same one); first,
  // because a crash's message may quote the eviction that caused it.
  ["crash", "Crash: "],
  ["eviction", "The coordinator is not aware of this member"],
  ["rebalance", "The group is rebalancing, re-joining"],
];

const noDisruptions = (): Disruptions => ({ evictions: 0, rebalances: 0, crashes: 0, restarts: 0, extraMembers: 0 });

function classify(line: string): DisruptionKind | undefined {
  return PATTERNS.find(([, text]) => line.includes(text))?.[0];
}

/** The `time` (epoch ms) of a pino JSON line, or undefined. */
function timeOf(line: string): number | undefined {
  const m = /"time":(\d+)/.exec(line);
  return m?.[1] === undefined ? undefined : Number(m[1]);
}

export interface DisruptionEvent {
  at: number;
  kind: DisruptionKind;
  /** Where it was logged (a log file, or this process): one consumer's lines about one incident are counted once. */
  source: string;
}

/** Disruptions recorded in log files (pino JSON lines). */
export function disruptionsInFiles(files: readonly string[]): DisruptionEvent[] {
  return files.flatMap((f) =>
    readFileSync(f, "utf8")
      .split("\n")
      .flatMap((line) => {
        const kind = classify(line);
        const at = kind && timeOf(line);
        return kind && at !== undefined ? [{ at, kind, source: f }] : [];
      }),
  );
}

/**
 * A destination for an in-process pino logger: counts the disruption lines it sees (with their
 * time) and passes warnings and errors on to stderr.
 */
export function createDisruptionSink(echo: (line: string) => void = (l) => process.stderr.write(`[bench] ${compact(l)}\n`)) {
  const events: DisruptionEvent[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, done) {
      for (const line of chunk.toString().split("\n")) {
        if (!line) continue;
        const kind = classify(line);
        if (kind) events.push({ at: timeOf(line) ?? Date.now(), kind, source: "in-process" });
        // kafkajs's own warnings are mostly transient retries (failures that matter surface as
        // errors in the bench); the disruptions and our services' warnings are shown.
        if (kind || !line.includes('"module":"kafkajs"')) echo(line);
      }
      done();
    },
  });
  return { stream, events };
}

/** A pino JSON line as "kafkajs error: message: error" (the line itself if it is not JSON). */
function compact(line: string): string {
  try {
    const parsed: unknown = JSON.parse(line);
    if (typeof parsed !== "object" || parsed === null) return line;
    const get = (k: string): unknown => (k in parsed ? Reflect.get(parsed, k) : undefined);
    const text = (k: string): string => {
      const v = get(k);
      return typeof v === "string" ? v : "";
    };
    const level = Number(get("level")) >= 50 ? "error" : "warn";
    const err = get("error") ?? get("err");
    const detail = typeof err === "string" ? err : typeof err === "object" && err !== null && "message" in err ? String(err.message) : "";
    return `${text("module") || text("name")} ${level}: ${text("msg")}${detail ? `: ${detail}` : ""}`;
  } catch {
    return line;
  }
}

const INCIDENT_MS = 10_000;

/** Sums the events in [since, until] (start-up joins before the group was complete do not count). */
export function countDisruptions(events: readonly DisruptionEvent[], since: number, until: number, base: Partial<Disruptions> = {}): Disruptions {
  const d = { ...noDisruptions(), ...base };
  const last = new Map<string, number>();
  for (const e of [...events].sort((a, b) => a.at - b.at)) {
    if (e.at < since || e.at > until) continue;
    // kafkajs logs an incident once per partition runner (up to the concurrency): within 10 s,
    // the same kind from the same consumer is the same incident.
    const key = `${e.source}|${e.kind}`;
    const previous = last.get(key);
    last.set(key, e.at);
    if (previous !== undefined && e.at - previous < INCIDENT_MS) continue;
    if (e.kind === "eviction") d.evictions++;
    else if (e.kind === "rebalance") d.rebalances++;
    else d.crashes++;
  }
  return d;
}
