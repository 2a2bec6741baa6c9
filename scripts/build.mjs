// `npm run build`: the production JavaScript. Each service's main.ts is bundled with our own
// packages (@lifecycle/*) into services/<name>/dist/main.js, and the migration command
// (packages/db/src/migrate.cli.ts) into services/<name>/dist/migrate.js; every npm dependency stays an
// import, installed by a production-only `npm ci --omit=dev`. Source maps point at the
// TypeScript (run with `node --enable-source-maps`). No tsx, no TypeScript at run time.
import { build } from "esbuild";
import { readFileSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
export const SERVICES = ["ingest", "worker", "api"];

/** Leaves `pg`, `kafkajs`, … to node_modules; bundles only workspace packages and relative files. */
const externalNpm = {
  name: "external-npm",
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith("@lifecycle/") ? undefined : { path: args.path, external: true }));
  },
};

const started = Date.now();
for (const service of SERVICES) {
  const outdir = `${root}services/${service}/dist`;
  rmSync(outdir, { recursive: true, force: true });
  const { name } = JSON.parse(readFileSync(`${root}services/${service}/package.json`, "utf8"));
  const result = await build({
    // main.js runs the service; migrate.js is `npm run migrate` (a Kubernetes Job runs it from the
    // ingest image before the Deployments roll).
    entryPoints: { main: `${root}services/${service}/src/main.ts`, migrate: `${root}packages/db/src/migrate.cli.ts` },
    outdir,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20.19",
    sourcemap: true,
    // Keeps function and class names for stack traces and logs (err.type in pino).
    keepNames: true,
    plugins: [externalNpm],
    logLevel: "warning",
    metafile: true,
  });
  const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
  console.log(`${name}: services/${service}/dist/{main,migrate}.js (${(bytes / 1024).toFixed(0)} KiB with their source maps)`);
}
console.log(`built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
