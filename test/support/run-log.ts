import { appendFileSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

/**
 * A multi-process test's log directory under .run/test-logs/<run> (the services' logs go there)
 * and `note`, which appends a phase with its time since start to timeline.log beside them: where
 * to look when a run fails or slows.
 */
export function runLog(run: string): { logDir: string; note: (line: string) => void } {
  const logDir = fileURLToPath(new URL(`../../.run/test-logs/${run}`, import.meta.url));
  mkdirSync(logDir, { recursive: true });
  const t0 = Date.now();
  return { logDir, note: (line) => appendFileSync(`${logDir}/timeline.log`, `${((Date.now() - t0) / 1000).toFixed(1)} s ${line}\n`) };
}
