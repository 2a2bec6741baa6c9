// `node scripts/assemble-runtime.mjs <out-dir> [service]`: after `npm run build`, copies into
// <out-dir> exactly what a production install of the service(s) needs and nothing more, in two
// parts laid over the same app directory one after the other:
//   <out-dir>/deps  what `npm ci --omit=dev` reads: the lockfile, .npmrc, the preinstall check and
//                   the package.json of every workspace but the test-only ones
//   <out-dir>/app   what runs: the bundles and their source maps, the SQL migrations, the
//                   default follow-up templates, the dashboard's static assets and the health check
// The Dockerfile's runtime stage copies deps, installs, then copies app (a code change leaves the
// install's layer cached); the CI production smoke (scripts/production-smoke.sh) does the same.
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const ALL = ["ingest", "worker", "api"];
const [out, only] = process.argv.slice(2);
if (!out || (only !== undefined && !ALL.includes(only))) {
  console.error(`usage: node scripts/assemble-runtime.mjs <out-dir> [${ALL.join("|")}]`);
  process.exit(2);
}
const services = only ? [only] : ALL;

const copy = (path, part) => {
  const from = join(root, path);
  if (!existsSync(from)) throw new Error(`${path} is missing (run npm run build first?)`);
  mkdirSync(dirname(join(out, part, path)), { recursive: true });
  cpSync(from, join(out, part, path), { recursive: true });
};

// Test-only workspaces stay out. npm installs every workspace's own dependencies however it is
// reached, so testkit's (testcontainers, fast-check, …) would land in production although only
// devDependencies point at it. npm ci accepts the lockfile with these workspaces left out.
const TEST_ONLY = new Set(["packages/testkit", "test"]);
const rootPackage = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const workspaces = ["packages", "services"].flatMap((group) => readdirSync(join(root, group)).map((name) => `${group}/${name}`)).filter((w) => !TEST_ONLY.has(w) && existsSync(join(root, w, "package.json")));

if (existsSync(out) && readdirSync(out).length > 0) {
  console.error(`assemble-runtime: ${out} is not empty; give a new directory`);
  process.exit(2);
}
mkdirSync(join(out, "deps"), { recursive: true });
writeFileSync(join(out, "deps", "package.json"), `${JSON.stringify({ ...rootPackage, workspaces }, null, 2)}\n`);
for (const file of ["package-lock.json", ".npmrc", "scripts/check-node.mjs"]) copy(file, "deps");
for (const workspace of workspaces) copy(`${workspace}/package.json`, "deps");

copy("scripts/healthcheck.mjs", "app");
copy("packages/db/migrations", "app");
// The default follow-up templates: the worker renders them, the API previews them.
if (services.includes("worker") || services.includes("api")) copy("packages/templates/templates", "app");
for (const service of services) copy(`services/${service}/dist`, "app");
if (services.includes("api")) copy("services/api/src/dashboard/assets", "app");
console.log(`runtime files for ${services.join(", ")} in ${out}/deps and ${out}/app`);
