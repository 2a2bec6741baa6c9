// `node scripts/assemble-runtime.mjs <out-dir> [service]`: after `npm run build`, copies into
// <out-dir> exactly what a production install of the service(s) needs and nothing more: the
// lockfile and the package.json of every workspace but the test-only ones, the bundles and their
// source maps, the SQL migrations and the dashboard's static assets. The Dockerfile's runtime
// stage and the CI production smoke (scripts/production-smoke.sh) both use it, so they agree.
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const [out, only] = process.argv.slice(2);
if (!out) {
  console.error("usage: node scripts/assemble-runtime.mjs <out-dir> [ingest|worker|api]");
  process.exit(2);
}
const services = only ? [only] : ["ingest", "worker", "api"];

const copy = (path) => {
  const from = join(root, path);
  if (!existsSync(from)) throw new Error(`${path} is missing (run npm run build first?)`);
  mkdirSync(dirname(join(out, path)), { recursive: true });
  cpSync(from, join(out, path), { recursive: true });
};

// Test-only workspaces stay out. npm installs every workspace's own dependencies however it is
// reached, so testkit's (testcontainers, fast-check, …) would land in production although only
// devDependencies point at it. npm ci accepts the lockfile with these workspaces left out.
const TEST_ONLY = new Set(["packages/testkit", "test"]);
const rootPackage = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const workspaces = ["packages", "services"].flatMap((group) => readdirSync(join(root, group)).map((name) => `${group}/${name}`)).filter((w) => !TEST_ONLY.has(w));
mkdirSync(out, { recursive: true });
writeFileSync(join(out, "package.json"), `${JSON.stringify({ ...rootPackage, workspaces }, null, 2)}\n`);
for (const file of ["package-lock.json", ".npmrc", "scripts/check-node.mjs", "scripts/healthcheck.mjs"]) copy(file);
for (const workspace of workspaces) copy(`${workspace}/package.json`);
copy("packages/db/migrations");
for (const service of services) copy(`services/${service}/dist`);
if (services.includes("api")) copy("services/api/src/dashboard/assets");
console.log(`runtime files for ${services.join(", ")} in ${out}`);
