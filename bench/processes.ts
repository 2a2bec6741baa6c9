// The services as users run them: each main.ts in a process of its own (through tsx, as the demo
// starts them), its JSON log in a file. Ingest replicas are supervised: one that exits during a
// phase is started again, as a supervisor (systemd, Kubernetes) would, and the restart is counted.
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, mkdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Teardown } from "./teardown.js";

export interface BenchProcess {
  name: string;
  logFile: string;
  child: ChildProcess;
  exited: Promise<number | null>;
  /** SIGTERM (the service's graceful shutdown), SIGKILL after 20 s. */
  stop(): Promise<void>;
}

export interface ProcessSpec {
  name: string;
  entry: string;
  env: NodeJS.ProcessEnv;
  logDir: string;
  /** The log `msg` that says the service is up. */
  readyMessage: string;
  /** Working directory (where tsx resolves from): the repository root. */
  cwd: string;
  /** Hears a line every 5 s while the process starts. */
  say: (line: string) => void;
  timeoutMs?: number;
}

/** Spawns `entry`, registered with the teardown before it is ready, and waits for its ready line. */
export async function startProcess(spec: ProcessSpec, teardown: Teardown): Promise<BenchProcess> {
  mkdirSync(spec.logDir, { recursive: true });
  const logFile = join(spec.logDir, `${spec.name}.log`);
  const out = createWriteStream(logFile, { flags: "a" });
  await new Promise((resolve, reject) => out.once("open", resolve).once("error", reject));
  // A restarted replica appends to its predecessor's log: only what this process writes may say it is ready.
  const logStart = statSync(logFile).size;
  const child = spawn(process.execPath, ["--import", "tsx", spec.entry], { cwd: spec.cwd, env: spec.env, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout.pipe(out);
  child.stderr.pipe(out);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
      await exited;
      clearTimeout(timer);
    }
    out.end();
  };
  const release = teardown.add(`stop ${spec.name} (pid ${child.pid ?? "?"})`, stop);
  try {
    await waitForLogLine(logFile, logStart, `"msg":"${spec.readyMessage}"`, () => child.exitCode, spec.timeoutMs ?? 120_000, spec.name, spec.say);
  } catch (err) {
    await release();
    throw err;
  }
  return { name: spec.name, logFile, child, exited, stop: release };
}

async function waitForLogLine(logFile: string, from: number, needle: string, exitCode: () => number | null, timeoutMs: number, name: string, say: (line: string) => void) {
  const t0 = Date.now();
  const deadline = t0 + timeoutMs;
  let lastPrint = t0;
  for (;;) {
    if (Date.now() - lastPrint >= 5_000) {
      lastPrint = Date.now();
      say(`waiting for ${name} to be ready (${Math.round((lastPrint - t0) / 1000)} s)`);
    }
    if (readFileSync(logFile).subarray(from).toString("utf8").includes(needle)) return;
    if (exitCode() !== null) throw new Error(`${name} exited with ${exitCode()} before it was ready; see ${logFile}`);
    if (Date.now() > deadline) throw new Error(`${name} was not ready within ${timeoutMs / 1000} s; see ${logFile}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export interface ReplicaSet {
  /** Every log file any replica (or a restart of one) wrote to. */
  logFiles(): string[];
  restarts(): number;
  /** Sends `signal` to replica `index` (as a fault: the set restarts it); false if none runs there now. */
  signal(index: number, signal: NodeJS.Signals): boolean;
  stop(): Promise<void>;
}

/**
 * Starts `count` copies of a service at once (same group, same config) and restarts any that
 * exits while the set runs. `say` reports each restart.
 */
export async function startReplicas(spec: ProcessSpec, count: number, teardown: Teardown): Promise<ReplicaSet> {
  const { say } = spec;
  let running = true;
  let restarts = 0;
  const files = new Set<string>();
  const current = new Map<number, BenchProcess>();
  const launch = async (i: number): Promise<void> => {
    const p = await startProcess({ ...spec, name: `${spec.name}-${i + 1}` }, teardown);
    files.add(p.logFile);
    current.set(i, p);
    void p.exited.then(async (code) => {
      // On Ctrl-C the whole process group gets the signal: give the bench's own handler a moment
      // to start the teardown before taking an exit for a crash.
      await new Promise((r) => setTimeout(r, 1_000));
      if (!running || teardown.stopping) return;
      restarts++;
      say(`${p.name} exited (code ${code}) during the phase; restarting it as a supervisor would (see ${p.logFile})`);
      await relaunch(i, p.name);
    });
  };
  // A restart can fail too (a database still down when it starts): tried again every 2 s, as a
  // supervisor with a restart policy does, until it runs or the set stops.
  const relaunch = async (i: number, name: string): Promise<void> => {
    while (running && !teardown.stopping) {
      try {
        await launch(i);
        return;
      } catch (err) {
        say(`${name} could not be restarted (${err instanceof Error ? err.message : String(err)}); trying again in 2 s`);
        await new Promise((r) => setTimeout(r, 2_000));
      }
    }
  };
  await Promise.all(Array.from({ length: count }, (_, i) => launch(i)));
  return {
    logFiles: () => [...files],
    restarts: () => restarts,
    signal(index, signal) {
      const child = current.get(index)?.child;
      if (!child || child.exitCode !== null || child.signalCode !== null) return false;
      return child.kill(signal);
    },
    async stop() {
      running = false;
      await Promise.all([...current.values()].map((p) => p.stop()));
    },
  };
}
