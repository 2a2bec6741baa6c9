// @ts-check
/**
 * Which way dependencies may point (issue 9). `npm run deps` (part of `npm run check`) fails on
 * any of these. Layers, from the bottom:
 *
 *   packages/events   zod schemas; pure, imports no other workspace
 *   packages/domain   pure lifecycle logic; imports only @lifecycle/events
 *   packages/*        IO libraries (db, kafka, queue, engine, pipeline, …); never a service
 *   services/*        composition roots; never another service
 *   test/ bench/ scripts/ examples/   may use any package or service, through its package name
 *
 * And for every workspace: what it imports is declared in its own package.json (top-level
 * bench/, scripts/, examples/: the root's), production code does not lean on devDependencies,
 * every import resolves, and there are no import cycles (this replaces `madge --circular`).
 *
 * "Test code" below is *.test.ts, *.int.test.ts, *.test-support.ts and anything under a
 * test-support/ folder: it may use devDependencies (vitest, @lifecycle/testkit, …).
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const root = import.meta.dirname;

const TEST_CODE = "(^|/)test-support/|[.]test[.]ts$|[.]test-support[.]ts$";

// IO: drivers, brokers, servers, loggers, metrics, containers, and Node's IO built-ins.
const IO_PACKAGES = [
  "pg", "pg-[^/]+", "node-pg-migrate", "kafkajs", "ioredis", "bullmq", "fastify", "@fastify/[^/]+",
  "fastify-[^/]+", "@bull-board/[^/]+", "light-my-request", "pino", "pino-[^/]+", "prom-client",
  "close-with-grace", "nodemailer", "smtp-server", "testcontainers", "@testcontainers/[^/]+",
  "playwright-core", "undici", "ws",
];
const IO_BUILTINS = [
  "fs", "fs/promises", "net", "http", "https", "http2", "child_process", "dgram", "dns", "dns/promises",
  "tls", "cluster", "worker_threads", "readline", "readline/promises", "os", "process", "stream",
  "stream/promises", "inspector", "perf_hooks", "v8", "vm", "timers", "timers/promises",
];
const IO_PATH = [
  `(^|/)node_modules/(@types/)?(${IO_PACKAGES.join("|")})/`,
  `^(node:)?(${IO_BUILTINS.join("|")})$`,
];

// ---- workspaces and what each package.json declares -------------------------------------------
const rootManifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
/** @type {{dir: string, manifest: any}[]} */
const workspaces = rootManifest.workspaces.flatMap((/** @type {string} */ glob) => {
  const dirs = glob.endsWith("/*")
    ? readdirSync(join(root, glob.slice(0, -2)), { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => `${glob.slice(0, -2)}/${d.name}`)
    : [glob];
  return dirs
    .filter((dir) => existsSync(join(root, dir, "package.json")))
    .map((dir) => ({ dir, manifest: JSON.parse(readFileSync(join(root, dir, "package.json"), "utf8")) }));
});
const dirOf = new Map(workspaces.map((w) => [w.manifest.name, w.dir]));
const esc = (/** @type {string} */ s) => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
const WORKSPACE_PATH = `^(${workspaces.map((w) => esc(w.dir)).join("|")})/`;

/** Directories of the workspaces a manifest declares in the given sections. */
function declaredDirs(/** @type {any} */ manifest, /** @type {string[]} */ sections) {
  return sections
    .flatMap((s) => Object.keys(manifest[s] ?? {}))
    .map((name) => dirOf.get(name))
    .filter((d) => d !== undefined);
}

/**
 * dependency-cruiser resolves `@lifecycle/x` through the workspace symlink to packages/x/src/…,
 * which its package.json checks (npm-no-pkg) do not cover: these generated rules do, one set per
 * manifest. Such an import is typed `aliased-workspace` from top-level code (the root manifest
 * lists the workspaces) and `undetermined` from inside a workspace (a bare name that resolves
 * outside node_modules); a relative import is `local` only, so neither matches it.
 */
const WORKSPACE_IMPORT = ["aliased-workspace", "undetermined"];

function workspaceDeclarationRules(/** @type {string} */ fromPath, /** @type {string} */ ownDir, /** @type {any} */ manifest, /** @type {string} */ manifestPath) {
  const only = (/** @type {string[]} */ dirs) => `^(${dirs.map(esc).join("|")})/`;
  const declared = [ownDir, ...declaredDirs(manifest, ["dependencies", "devDependencies", "peerDependencies", "optionalDependencies"])];
  const prod = declaredDirs(manifest, ["dependencies", "peerDependencies", "optionalDependencies"]);
  const devOnly = declaredDirs(manifest, ["devDependencies"]).filter((d) => !prod.includes(d));
  return [
    {
      name: "undeclared-workspace-dependency",
      severity: "error",
      comment: `Imports a @lifecycle workspace package that ${manifestPath} does not declare. Add it there ("@lifecycle/x": "*") and run npm install.`,
      from: { path: fromPath },
      to: { dependencyTypes: WORKSPACE_IMPORT, path: WORKSPACE_PATH, pathNot: only(declared) },
    },
    // Production code exists in packages/ and services/ only (test/ and top-level code is all dev).
    ...(/^(packages|services)\//.test(ownDir) && devOnly.length > 0
      ? [
          {
            name: "workspace-dev-dep-in-production",
            severity: "error",
            comment: `Production code imports a @lifecycle package that ${manifestPath} declares only in devDependencies: move it to dependencies (or the import into test code).`,
            from: { path: fromPath, pathNot: TEST_CODE },
            to: { dependencyTypes: WORKSPACE_IMPORT, dependencyTypesNot: ["type-only"], path: only(devOnly) },
          },
        ]
      : []),
  ];
}

const declarationRules = [
  ...workspaces.flatMap((w) => workspaceDeclarationRules(`^${esc(w.dir)}/`, w.dir, w.manifest, `${w.dir}/package.json`)),
  // Top-level code that belongs to no workspace: bench/, scripts/, examples/, vitest.config.ts.
  ...workspaceDeclarationRules("^(bench|scripts|examples)/|^[^/]+$", ".", rootManifest, "the root package.json"),
];

/** @type {import("dependency-cruiser").IConfiguration} */
export default {
  forbidden: [
    // ---- direction ------------------------------------------------------------------------------
    {
      name: "pure-no-io",
      severity: "error",
      comment:
        "packages/domain (and the schemas in packages/events it builds on) is pure: no IO package " +
        "(pg, kafkajs, ioredis, bullmq, fastify, pino, prom-client, node:fs/net/http/child_process, …). " +
        "IO belongs in packages/engine, packages/pipeline or a service; test code may read fixtures.",
      from: { path: "^packages/(domain|events)/", pathNot: TEST_CODE },
      to: { path: IO_PATH },
    },
    {
      name: "pure-only-zod",
      severity: "error",
      comment:
        "packages/domain and packages/events depend on zod and nothing else from npm or Node. " +
        "If a new dependency really is pure, add it to this rule's to.pathNot deliberately.",
      from: { path: "^packages/(domain|events)/", pathNot: TEST_CODE },
      to: {
        dependencyTypes: ["npm", "npm-dev", "npm-optional", "npm-peer", "npm-no-pkg", "npm-unknown", "core"],
        pathNot: ["(^|/)node_modules/zod/", ...IO_PATH],
      },
    },
    {
      name: "pure-workspace-deps",
      severity: "error",
      comment:
        "packages/domain may import only the pure @lifecycle/events (zod schemas, no IO); packages/events " +
        "imports no other workspace. Anything with IO depends on domain, never the other way.",
      from: { path: "^packages/(domain|events)/" },
      to: { path: WORKSPACE_PATH, pathNot: "^packages/($1|events)/" },
    },
    {
      name: "packages-not-to-services",
      severity: "error",
      comment:
        "A package imports a service (services/* or @lifecycle/api|ingest|worker). Packages are the " +
        "libraries services are built from: move what both need into a package.",
      from: { path: "^packages/" },
      to: { path: "^services/" },
    },
    {
      name: "no-service-to-service",
      severity: "error",
      comment:
        "A service imports another service. Services share code through packages/* only " +
        "(issue 9: applyEvents and the outbox relay moved to packages/pipeline for this).",
      from: { path: "^services/([^/]+)/" },
      to: { path: "^services/", pathNot: "^services/$1/" },
    },
    {
      name: "top-level-via-package-entry",
      severity: "error",
      comment:
        "test/, bench/, scripts/ and examples/ reach a package or service only through its package " +
        "name and exports (`@lifecycle/ingest`, `@lifecycle/api/openapi`), never a relative path into " +
        "its src/. Need something unexported? Add it to that package.json's exports. (Spawning a " +
        "service's main.ts by file URL is a string, not an import, and is fine.)",
      from: { path: "^(test|bench|scripts|examples)/|^[^/]+$" },
      to: { path: "^(packages|services)/", dependencyTypes: ["local"], dependencyTypesNot: ["aliased-workspace"] },
    },
    {
      name: "workspace-self-contained",
      severity: "error",
      comment:
        "A relative import leaves its workspace (into another package's src/, or into test/, bench/, " +
        "scripts/). Import other workspaces by package name; code a workspace needs lives in it or in a package.",
      from: {
        path: "^(packages|services)/([^/]+)/",
        // Known and tracked: the dashboard's test data comes from scripts/lib (to move into a package).
        pathNot: "^services/api/src/dashboard/dashboard[.]test-support[.]ts$",
      },
      to: { dependencyTypes: ["local"], dependencyTypesNot: ["aliased-workspace"], pathNot: "^$1/$2/" },
    },
    {
      name: "testkit-only-in-tests",
      severity: "error",
      comment:
        "Production code imports @lifecycle/testkit (vitest, testcontainers): it is not installed in " +
        "production images. Only test code, test/, bench/ and scripts/ use it.",
      from: { path: "^(packages|services)/", pathNot: [TEST_CODE, "^packages/testkit/"] },
      to: { path: "^packages/testkit/" },
    },

    // ---- hygiene --------------------------------------------------------------------------------
    {
      name: "no-circular",
      severity: "error",
      comment: "An import cycle. Break it by moving the shared part into a module both can import.",
      from: {},
      to: { circular: true },
    },
    {
      name: "not-to-unresolvable",
      severity: "error",
      comment: "This import resolves to nothing on disk: a typo, a missing export in package.json, or a package not installed.",
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: "not-in-package-json",
      severity: "error",
      comment:
        "Imports an npm package its own package.json does not declare (a workspace's own; for bench/, " +
        "scripts/, examples/ the root's). It only works by hoisting: declare it with the version the repo uses.",
      from: {},
      to: { dependencyTypes: ["npm-no-pkg", "npm-unknown"] },
    },
    {
      name: "not-to-dev-dep",
      severity: "error",
      comment:
        "Production code of a workspace imports a package declared only in its devDependencies, which " +
        "production installs (Docker: NODE_ENV=production npm ci) leave out. Move it to dependencies.",
      from: { path: "^(packages|services)/", pathNot: [TEST_CODE, "^packages/testkit/"] },
      to: { dependencyTypes: ["npm-dev"], dependencyTypesNot: ["type-only"], pathNot: "(^|/)node_modules/@types/" },
    },
    ...declarationRules,
  ],
  options: {
    doNotFollow: { path: ["node_modules"] },
    // Build output of our own code only: node_modules/*/dist is where many packages keep their code.
    exclude: { path: "^(packages|services)/[^/]+/dist/" },
    // `import type` counts: a type-only import of a service from a package is still the wrong way round.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    // Each file is checked against its closest package.json only (not merged with the root's).
    combinedDependencies: false,
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default", "types"],
      mainFields: ["module", "main", "types", "typings"],
    },
    skipAnalysisNotInRules: true,
    // No cache: it keys on the sources, not on the package.json files the rules are built from,
    // so a fixed (or a new) undeclared dependency would keep its old verdict. A run takes ~2 s.
    cache: false,
  },
};
