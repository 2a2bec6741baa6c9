import type { Fault } from "./fault-schedule.js";
import type { Stack } from "./stack.js";

// Carries out a fault schedule against the running stack: each fault at its time (faults on
// different resources overlap, as real outages do), logged as it starts and ends.

export interface FaultRecord extends Fault {
  /** Wall-clock start and end of the outage (the end: the service is back, the receiver answers again). */
  startedAt: number;
  endedAt?: number;
  /** What happened, e.g. "SIGKILL ingest-2 (pid 123)" or why it could not be carried out. */
  detail: string;
  error?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function inject(stack: Stack, f: Fault): Promise<string> {
  const signal = f.kind.startsWith("sigkill") ? "SIGKILL" : "SIGTERM";
  switch (f.kind) {
    case "sigkill-ingest":
    case "sigterm-ingest":
      return stack.ingest.signal(f.target, signal) ? `${signal} ingest-${f.target + 1}` : `ingest-${f.target + 1} was not running (restarting): no signal sent`;
    case "sigkill-worker":
    case "sigterm-worker":
      return stack.workers.signal(f.target, signal) ? `${signal} worker-${f.target + 1}` : `worker-${f.target + 1} was not running (restarting): no signal sent`;
    case "sigkill-api":
    case "sigterm-api":
      return stack.api.signal(0, signal) ? `${signal} api-1` : "api-1 was not running (restarting): no signal sent";
    case "broker-restart":
      await stack.restartBroker(f.how, f.durationMs);
      return `broker ${f.how === "kill" ? "killed" : "stopped"}, down ${f.durationMs} ms, started again`;
    case "postgres-restart":
      await stack.postgres.stop(f.how === "kill" ? "immediate" : "fast");
      await sleep(f.durationMs);
      await stack.postgres.start();
      return `PostgreSQL ${f.how === "kill" ? "crashed (immediate stop)" : "stopped (fast)"}, down ${f.durationMs} ms, started again`;
    case "redis-restart":
      await stack.redis.stop();
      await sleep(f.durationMs);
      await stack.redis.start();
      return `Redis stopped, down ${f.durationMs} ms, started again (append-only file kept)`;
    case "webhook-fail":
    case "webhook-hang":
    case "smtp-fail":
    case "smtp-hang": {
      const channel = f.kind.startsWith("webhook") ? "webhook" : "email";
      const mode = f.kind.endsWith("fail") ? "fail" : "hang";
      stack.receivers.setMode(channel, mode);
      await sleep(f.durationMs);
      stack.receivers.setMode(channel, "ok");
      return `${channel} receiver ${mode === "fail" ? "failing" : "hanging"} for ${f.durationMs} ms`;
    }
  }
}

/** Runs `faults` (times relative to `t0`) until done or `stopping()`; resolves with every fault's record. */
export async function runFaults({ stack, faults, t0, say, stopping }: { stack: Stack; faults: readonly Fault[]; t0: number; say: (line: string) => void; stopping: () => boolean }): Promise<FaultRecord[]> {
  const records: FaultRecord[] = [];
  const running: Promise<void>[] = [];
  for (const f of faults) {
    const wait = t0 + f.at - Date.now();
    if (wait > 0) await sleep(wait);
    if (stopping()) break;
    const record: FaultRecord = { ...f, startedAt: Date.now(), detail: "" };
    records.push(record);
    say(`fault at +${((record.startedAt - t0) / 1000).toFixed(1)} s: ${f.kind}${f.kind.startsWith("sig") ? "" : ` (${f.durationMs} ms)`}`);
    running.push(
      inject(stack, f).then(
        (detail) => {
          record.detail = detail;
          record.endedAt = Date.now();
        },
        (err: unknown) => {
          record.error = err instanceof Error ? err.message : String(err);
          record.endedAt = Date.now();
          say(`fault ${f.kind} could not be carried out: ${record.error}`);
        },
      ),
    );
  }
  await Promise.all(running);
  return records;
}
