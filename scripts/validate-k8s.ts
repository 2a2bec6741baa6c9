// `tsx scripts/validate-k8s.ts [dir…]` (run by infra/k8s/validate.sh): renders each kustomization
// (default: infra/k8s/base and every infra/k8s/overlays/*) with `kubectl kustomize` and checks every
// object against the Kubernetes schemas, offline. Prints one line per object; exits 1 on any error.
import { isAbsolute, join, relative } from "node:path";
import { K8S_DIR, kustomizations, parseManifests, render, REPO_ROOT, validateManifests, type Manifest } from "./lib/k8s-manifests.js";

const dirs = process.argv.length > 2 ? process.argv.slice(2).map((d) => (isAbsolute(d) ? d : join(process.cwd(), d))) : kustomizations().map((k) => join(K8S_DIR, k));

const started = Date.now();
const rendered: { dir: string; manifests: Manifest[] }[] = [];
let failed = 0;
for (const dir of dirs) {
  try {
    rendered.push({ dir, manifests: parseManifests(render(dir)) });
  } catch (err) {
    failed++;
    console.log(`FAIL ${relative(REPO_ROOT, dir)}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

// One validation pass over all of them: the TypeScript check costs its start-up once.
const verdicts = validateManifests(rendered.flatMap((r) => r.manifests));
let objects = 0;
for (const { dir, manifests } of rendered) {
  console.log(`${relative(REPO_ROOT, dir)}: ${manifests.length} objects`);
  for (const manifest of manifests) {
    const errors = verdicts[objects++]?.errors ?? ["not validated"];
    console.log(`  ${errors.length ? "FAIL" : "ok  "} ${manifest.kind}/${manifest.name} (${manifest.type})`);
    for (const e of errors) console.log(`       ${e}`);
    if (errors.length) failed++;
  }
}
const seconds = ((Date.now() - started) / 1000).toFixed(1);
console.log(failed ? `${failed} failed of ${objects} objects in ${dirs.length} kustomizations (${seconds} s)` : `all ${objects} objects in ${dirs.length} kustomizations valid (${seconds} s)`);
process.exit(failed ? 1 : 0);
