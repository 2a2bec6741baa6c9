// `npm test` and `npm run demo` must work on a fresh clone with nothing else typed:
// install dependencies from the lockfile when node_modules is missing or older than it.
import { execSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";

const marker = "node_modules/.package-lock.json";
const stale =
  !existsSync(marker) ||
  (existsSync("package-lock.json") && statSync("package-lock.json").mtimeMs > statSync(marker).mtimeMs);
if (stale) {
  const cmd = existsSync("package-lock.json") ? "npm ci" : "npm install";
  console.log(`[deps] node_modules missing or stale: running ${cmd}`);
  execSync(`${cmd} --no-audit --no-fund`, { stdio: "inherit" });
}
