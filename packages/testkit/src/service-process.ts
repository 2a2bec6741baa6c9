import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export interface ServiceProcess {
  name: string;
  logFile: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Runs a service's main.ts as a child process (through tsx), its JSON log going to a file.
 * `readyMessage` is the log `msg` that says the service is up.
 */
export async function startService({
  name,
  entry,
  env,
  logDir,
  readyMessage,
  timeoutMs = 60_000,
}: {
  name: string;
  entry: string;
  env: NodeJS.ProcessEnv;
  logDir: string;
  readyMessage: string;
  timeoutMs?: number;
}): Promise<ServiceProcess> {
  mkdirSync(logDir, { recursive: true });
  const logFile = join(logDir, `${name}.log`);
  const out = createWriteStream(logFile, { flags: "w" });
  await new Promise((resolve, reject) => out.once("open", resolve).once("error", reject));
  const child = spawn(process.execPath, ["--import", "tsx", entry], { env, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout.pipe(out);
  child.stderr.pipe(out);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));

  try {
    await waitUntilReady({ name, child, logFile, readyMessage, timeoutMs });
  } catch (err) {
    // Never leave a half-started service behind.
    child.kill("SIGKILL");
    await exited;
    throw err;
  }

  return {
    name,
    logFile,
    child,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

async function waitUntilReady({ name, child, logFile, readyMessage, timeoutMs }: { name: string; child: ChildProcess; logFile: string; readyMessage: string; timeoutMs: number }) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (readFileSync(logFile, "utf8").includes(`"msg":"${readyMessage}"`)) return;
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode} before it was ready; see ${logFile}`);
    if (Date.now() > deadline) throw new Error(`${name} was not ready within ${timeoutMs} ms; see ${logFile}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
