import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitFor } from "./wait-for.js";

/**
 * A Redis of the test's own, which it can stop, start and flush without touching the shared one.
 * `persistence: true` (the default) runs it as production should (append-only file, fsync always);
 * false as the local Redis runs (nothing survives a restart).
 */
export async function startPrivateRedis({ persistence = true }: { persistence?: boolean } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "lifecycle-redis-"));
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const url = `redis://127.0.0.1:${port}`;
  const cli = (...args: string[]) => execFileSync("redis-cli", ["-p", String(port), ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  const start = async () => {
    const durability = persistence ? ["--appendonly", "yes", "--appendfsync", "always"] : ["--appendonly", "no"];
    const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, ...durability, "--save", ""], { stdio: "ignore", detached: false });
    child.unref();
    await waitFor(`redis on ${port}`, async () => {
      try {
        return cli("ping") === "PONG" ? true : undefined;
      } catch {
        return undefined;
      }
    }, { timeoutMs: 10_000, intervalMs: 100 });
  };
  const stop = async () => {
    try {
      cli("shutdown", "nosave");
    } catch {
      // already stopped
    }
  };
  await start();
  // Stopped for good: its append-only file goes too (nothing left in the temporary directory).
  const dispose = async () => {
    await stop();
    rmSync(dir, { recursive: true, force: true });
  };
  /** Every key gone at once, as after a restart without persistence. */
  const flush = () => cli("flushall");
  return { url, start, stop, dispose, flush };
}
