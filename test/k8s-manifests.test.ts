import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { z } from "zod";
import { kafkaEnv, loadConfig, logEnv, pgEnv, redisEnv } from "@lifecycle/config";
import { kafkaSecurityFrom } from "@lifecycle/kafka";
import { beforeAll, describe, expect, it } from "vitest";
import { K8S_DIR, kustomizations, parseManifests, render, REPO_ROOT, validateManifests, type Manifest } from "../scripts/lib/k8s-manifests.js";
import { ConfigMap, environmentOf, Hpa, objectsOf, Pdb, ScaledObject, secretFileAt, TriggerAuthentication, Workload } from "./support/k8s-objects.js";

// Issue 10, point 4: the manifests under infra/k8s render, every object passes the Kubernetes
// (and KEDA) schemas with no unknown field, and the rules the services depend on hold in every
// overlay. CI runs the schema part alone too (infra/k8s/validate.sh, before the tests).
const rendered = new Map<string, Manifest[]>();
beforeAll(() => {
  for (const k of kustomizations()) rendered.set(k, parseManifests(render(join(K8S_DIR, k))));
});
const ALL = kustomizations();
const manifestsOf = (k: string): Manifest[] => rendered.get(k) ?? [];
const deployments = (k: string) => objectsOf(manifestsOf(k), "apps/v1/Deployment", Workload);
const workloads = (k: string) => [...deployments(k), ...objectsOf(manifestsOf(k), "batch/v1/Job", Workload)];
const configMap = (k: string) => {
  const maps = objectsOf(manifestsOf(k), "v1/ConfigMap", ConfigMap);
  expect(maps.map((m) => m.metadata.name)).toEqual([expect.stringMatching(/^lifecycle-config-/)]);
  return maps;
};
const errorsOf = (manifests: Manifest[]) => validateManifests(manifests).filter((v) => v.errors.length > 0);

describe("infra/k8s: schemas", () => {
  it("renders the base and both overlays, and every object passes the schema and unknown-field checks", () => {
    expect(ALL).toEqual(["base", "overlays/local", "overlays/production"]);
    for (const k of ALL) expect(manifestsOf(k).length, k).toBeGreaterThan(10);
    const failures = errorsOf(ALL.flatMap(manifestsOf)).map((v) => `${v.manifest.type} ${v.manifest.name}: ${v.errors.join("; ")}`);
    expect(failures).toEqual([]);
  });

  it("rejects planted mistakes: a wrong type, a misspelled field, a bad quantity, an unknown kind", () => {
    const production = manifestsOf("overlays/production");
    // Each plant edits one field of a rendered object's JSON; the unplanted objects pass (above).
    const plant = (type: string, name: string, from: string, to: string): Manifest => {
      const original = production.find((m) => m.type === type && m.name === name);
      const text = JSON.stringify(original?.body);
      expect(text, `${name} has ${from}`).toContain(from);
      return { type, kind: original?.kind ?? "", name, body: z.record(z.string(), z.unknown()).parse(JSON.parse(text.replace(from, to))) };
    };
    const planted = [
      plant("apps/v1/Deployment", "lifecycle-worker", '"replicas":2', '"replicas":"two"'),
      plant("apps/v1/Deployment", "lifecycle-api", '"readinessProbe"', '"readinesProbe"'),
      plant("apps/v1/Deployment", "lifecycle-ingest", '"memory":"768Mi"', '"memory":"lots"'),
      plant("keda.sh/v1alpha1/ScaledObject", "lifecycle-ingest", '"maxReplicaCount"', '"maxReplicaCnt"'),
      { type: "v1/Pod", kind: "Pod", name: "stray", body: { apiVersion: "v1", kind: "Pod", metadata: { name: "stray" } } },
    ];
    const messages = errorsOf(planted).map((v) => `${v.manifest.name}: ${v.errors.join("; ")}`);
    expect(messages).toEqual([
      expect.stringMatching(/^lifecycle-worker: .*spec\/replicas must be integer/),
      expect.stringMatching(/^lifecycle-api: .*'"readinesProbe"' does not exist in type 'IContainer'/),
      expect.stringMatching(/^lifecycle-ingest: .*limits\/memory must match format "quantity"/),
      expect.stringMatching(/^lifecycle-ingest: .*'"maxReplicaCnt"' does not exist/),
      expect.stringMatching(/^stray: no schema for v1\/Pod/),
    ]);
  });

  it("fails an overlay whose patch misspells a field, end to end through kubectl kustomize", () => {
    const dir = mkdtempSync(join(tmpdir(), "k8s-planted-"));
    try {
      const base = relative(dir, join(K8S_DIR, "overlays/production"));
      const patch = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: lifecycle-worker\nspec:\n  template:\n    spec:\n      terminationGracePeriod: 30\n";
      writeFileSync(join(dir, "kustomization.yaml"), `resources:\n  - ${base}\npatches:\n  - path: patch.yaml\n`);
      writeFileSync(join(dir, "patch.yaml"), patch);
      const failures = errorsOf(parseManifests(render(dir)));
      expect(failures.map((v) => v.manifest.name)).toEqual(["lifecycle-worker"]);
      expect(failures[0]?.errors.join(" ")).toContain("'\"terminationGracePeriod\"' does not exist in type 'IPodSpec'");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.each(ALL)("infra/k8s/%s", (k) => {
  it("runs every pod restricted: non-root uid 1000, RuntimeDefault seccomp, no privilege escalation, no capabilities, read-only root with /tmp", () => {
    for (const w of workloads(k)) {
      const pod = w.spec.template.spec;
      expect(pod.securityContext, w.metadata.name).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: "RuntimeDefault" } });
      expect(pod.automountServiceAccountToken, w.metadata.name).toBe(false);
      for (const c of pod.containers) {
        expect(c.securityContext, c.name).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } });
        const tmp = c.volumeMounts.find((m) => m.mountPath === "/tmp");
        expect(pod.volumes.find((v) => v.name === tmp?.name)?.emptyDir, `${c.name}: /tmp`).toBeDefined();
      }
    }
  });

  it("gives every container CPU and memory requests and limits, and each service a V8 heap well under its limit", () => {
    for (const w of workloads(k)) {
      for (const c of w.spec.template.spec.containers) {
        expect(Object.keys(c.resources.requests).sort(), c.name).toEqual(["cpu", "memory"]);
        expect(Object.keys(c.resources.limits).sort(), c.name).toEqual(["cpu", "memory"]);
        expect(mebibytes(c.resources.requests.memory), c.name).toBeLessThanOrEqual(mebibytes(c.resources.limits.memory));
      }
    }
    // V8 sizes its heap from the machine's memory: without a cap an ingest process draining a
    // backlog grew to 541 MB (infra/k8s/README.md), past a 512Mi limit.
    for (const d of deployments(k)) {
      const c = d.spec.template.spec.containers[0];
      const heap = /--max-old-space-size=(\d+)/.exec(c?.env.find((v) => v.name === "NODE_OPTIONS")?.value ?? "")?.[1];
      expect(heap, `${d.metadata.name}: NODE_OPTIONS --max-old-space-size`).toBeDefined();
      expect(Number(heap), d.metadata.name).toBeLessThanOrEqual(0.6 * mebibytes(c?.resources.limits.memory));
    }
  });

  it("probes each service's /healthz and /readyz on the port it listens on, bound to the pod's address", () => {
    const maps = configMap(k);
    expect(deployments(k).map((d) => d.metadata.name).sort()).toEqual(["lifecycle-api", "lifecycle-ingest", "lifecycle-worker"]);
    for (const d of deployments(k)) {
      const [c, ...others] = d.spec.template.spec.containers;
      if (!c) throw new Error(`${d.metadata.name}: no container`);
      expect(others).toEqual([]);
      const env = environmentOf(c, maps);
      // The API listens on API_HOST:API_PORT; ingest and worker serve their probes on PROBE_HOST:PROBE_PORT.
      const [host, port] = c.name === "api" ? [env.API_HOST, env.API_PORT] : [env.PROBE_HOST, env.PROBE_PORT];
      expect({ host, port }, c.name).toEqual({ host: "0.0.0.0", port: expect.stringMatching(/^\d+$/) });
      for (const [probe, path] of [[c.startupProbe, "/healthz"], [c.livenessProbe, "/healthz"], [c.readinessProbe, "/readyz"]] as const) {
        expect(probe?.httpGet.path, c.name).toBe(path);
        const target = c.ports.find((p) => p.name === probe?.httpGet.port || p.containerPort === probe?.httpGet.port);
        expect(target?.containerPort, `${c.name} probe port`).toBe(Number(port));
      }
    }
  });

  it("covers every Deployment with one PodDisruptionBudget that selects its pods", () => {
    const pdbs = objectsOf(manifestsOf(k), "policy/v1/PodDisruptionBudget", Pdb);
    for (const d of deployments(k)) {
      expect(d.spec.selector?.matchLabels).toEqual({ "app.kubernetes.io/name": "customer-lifecycle", "app.kubernetes.io/component": expect.any(String) });
      const selects = (labels: Record<string, string>) => pdbs.filter((p) => Object.entries(p.spec.selector.matchLabels).every(([key, v]) => labels[key] === v));
      expect(selects(d.spec.template.metadata.labels).map((p) => p.metadata.name), d.metadata.name).toEqual([d.metadata.name]);
    }
  });

  it("reads settings the services know, valid for them, with every file they name mounted from a Secret", () => {
    const maps = configMap(k);
    const secrets = manifestsOf(k).filter((m) => m.kind === "Secret").map((m) => m.name);
    const known = configKeysInSources();
    // OTEL_* are the OpenTelemetry SDK's own variables, read by the SDK rather than our schemas.
    for (const key of Object.keys(maps[0]?.data ?? {})) expect(known.has(key) || key.startsWith("OTEL_"), `${key} is read by no service`).toBe(true);
    for (const w of workloads(k)) {
      const pod = w.spec.template.spec;
      for (const c of pod.containers) {
        const env = environmentOf(c, maps, secrets.length > 0 ? secrets : undefined);
        const config = loadConfig(z.object({ ...pgEnv, ...kafkaEnv, ...redisEnv, ...logEnv }), env);
        const files: string[] = [];
        const security = kafkaSecurityFrom(config, (path) => {
          files.push(path);
          return "-----BEGIN CERTIFICATE-----\n";
        });
        if (config.REDIS_TLS_CA_FILE) files.push(config.REDIS_TLS_CA_FILE);
        for (const f of files) expect(secretFileAt(f, c, pod.volumes), `${c.name}: ${f}`).toBeDefined();
        if (c.name !== "migrate") expect(security.ssl !== undefined, `${c.name}: Kafka TLS`).toBe(env.KAFKA_SSL === "true");
      }
    }
  });
});

describe.each(["base", "overlays/production"])("infra/k8s/%s: scaling", (k) => {
  it("scales the API with a CPU HPA and ingest only with KEDA on consumer lag, at most one replica per partition", () => {
    const hpas = objectsOf(manifestsOf(k), "autoscaling/v2/HorizontalPodAutoscaler", Hpa);
    expect(hpas.map((h) => h.spec.scaleTargetRef)).toEqual([{ apiVersion: "apps/v1", kind: "Deployment", name: "lifecycle-api" }]);
    expect(hpas[0]?.spec.metrics.map((m) => m.resource?.name)).toEqual(["cpu"]);
    const [scaled, ...more] = objectsOf(manifestsOf(k), "keda.sh/v1alpha1/ScaledObject", ScaledObject);
    expect(more).toEqual([]);
    expect(scaled?.spec.scaleTargetRef).toEqual({ name: "lifecycle-ingest", envSourceContainerName: "ingest" });

    const byName = new Map(deployments(k).map((d) => [d.metadata.name, d]));
    // The autoscalers own these replica counts: a value here would reset them at every apply.
    expect(byName.get("lifecycle-api")?.spec.replicas).toBeUndefined();
    expect(byName.get("lifecycle-ingest")?.spec.replicas).toBeUndefined();
    expect(byName.get("lifecycle-worker")?.spec.replicas).toBe(2);

    const data = configMap(k)[0]?.data ?? {};
    const ingest = byName.get("lifecycle-ingest")?.spec.template.spec.containers[0];
    if (!scaled || !ingest) throw new Error("no ScaledObject or ingest container");
    expect(scaled.spec.maxReplicaCount).toBeLessThanOrEqual(Number(data.TOPIC_PARTITIONS));
    const env = environmentOf(ingest, configMap(k));
    const mechanism = { plain: "plaintext", "scram-sha-256": "scram_sha256", "scram-sha-512": "scram_sha512" }[env.KAFKA_SASL_MECHANISM ?? ""];
    for (const t of scaled.spec.triggers) {
      expect(t.type).toBe("kafka");
      expect(t.metadata).toMatchObject({ allowIdleConsumers: "false", bootstrapServersFromEnv: "KAFKA_BROKERS", consumerGroupFromEnv: "INGEST_GROUP_ID", offsetResetPolicy: "earliest" });
      expect({ sasl: t.metadata.sasl, tls: t.metadata.tls }).toEqual({ sasl: mechanism, tls: env.KAFKA_SSL === "true" ? "enable" : undefined });
      expect(Number(t.metadata.lagThreshold)).toBeGreaterThan(0);
    }
    expect(env.KAFKA_BROKERS).toMatch(/^[^\s,]+(,[^\s,]+)*$/);
    expect(env.INGEST_GROUP_ID).toBeTruthy();
    expect(scaled.spec.triggers.map((t) => t.metadata.topic)).toEqual(env.INPUT_TOPICS?.split(","));

    // KEDA logs in as the services do: the same Secret keys they read as KAFKA_SASL_USERNAME and as files.
    const [auth] = objectsOf(manifestsOf(k), "keda.sh/v1alpha1/TriggerAuthentication", TriggerAuthentication);
    expect(scaled.spec.triggers.map((t) => t.authenticationRef?.name)).toEqual(scaled.spec.triggers.map(() => auth?.metadata.name));
    const pod = byName.get("lifecycle-ingest")?.spec.template.spec;
    const ref = (parameter: string) => auth?.spec.secretTargetRef.find((r) => r.parameter === parameter);
    const usernameRef = ingest.env.find((v) => v.name === "KAFKA_SASL_USERNAME")?.valueFrom?.secretKeyRef;
    const file = (path = "") => secretFileAt(path, ingest, pod?.volumes ?? []) ?? { missing: path };
    expect(ref("username")).toMatchObject({ name: usernameRef?.name, key: usernameRef?.key });
    expect(ref("password")).toMatchObject(file(env.KAFKA_SASL_PASSWORD_FILE));
    expect(ref("ca")).toMatchObject(file(env.KAFKA_SSL_CA_FILE));
  });
});

describe("infra/k8s/overlays/production: secrets and images", () => {
  it("renders no Secret and no secret value: every credential is referenced", () => {
    const production = manifestsOf("overlays/production");
    expect(production.filter((m) => m.kind === "Secret")).toEqual([]);
    const secretish = /PASSWORD|SECRET|TOKEN|DATABASE_URL|REDIS_URL|SMTP_URL|WEBHOOK_URL/;
    for (const w of workloads("overlays/production")) {
      for (const c of w.spec.template.spec.containers) {
        const inlined = c.env.filter((v) => secretish.test(v.name) && v.value !== undefined).map((v) => v.name);
        expect(inlined, c.name).toEqual([]);
      }
    }
    for (const [key, value] of Object.entries(configMap("overlays/production")[0]?.data ?? {})) {
      expect(secretish.test(key) && !key.endsWith("_FILE"), key).toBe(false);
      expect(value, key).not.toMatch(/:\/\/[^/\s@]*:[^/\s@]+@/); // user:password@ in a URL
    }
  });

  it("pins every image to a release tag, runs migrations as a Job on the ingest image, and enforces restricted Pod Security", () => {
    const images = workloads("overlays/production").flatMap((w) => w.spec.template.spec.containers.map((c) => c.image));
    for (const image of images) expect(image).toMatch(/^[\w.-]+(\/[\w.-]+)+(:(?!latest$)[\w.-]+|@sha256:[0-9a-f]{64})$/);
    const job = objectsOf(manifestsOf("overlays/production"), "batch/v1/Job", Workload);
    expect(job.map((j) => j.spec.template.spec.containers[0]?.args)).toEqual([["node", "--enable-source-maps", "services/ingest/dist/migrate.js"]]);
    expect(job[0]?.spec.template.spec.containers[0]?.image).toBe(images.find((i) => i.includes("/ingest:")));
    const ns = manifestsOf("overlays/production").find((m) => m.kind === "Namespace");
    expect(ns?.body.metadata).toMatchObject({ name: "lifecycle", labels: { "pod-security.kubernetes.io/enforce": "restricted" } });
  });
});

/** A memory quantity in MiB ("512Mi", "1Gi", "600M"); anything else is NaN, which fails the comparisons. */
function mebibytes(quantity: string | number | undefined): number {
  const m = /^(\d+)(Mi|Gi|M|G)?$/.exec(String(quantity));
  const factor = { Mi: 1, Gi: 1024, M: 1e6 / 2 ** 20, G: 1e9 / 2 ** 20 }[m?.[2] ?? ""] ?? 1 / 2 ** 20;
  return m ? Number(m[1]) * factor : NaN;
}

/** Every `NAME:` key of a zod config schema in the services and packages (their environment variables). */
function configKeysInSources(): Set<string> {
  const keys = new Set<string>();
  for (const group of ["services", "packages"]) {
    for (const name of readdirSync(join(REPO_ROOT, group))) {
      const src = join(REPO_ROOT, group, name, "src");
      for (const file of readdirSync(src, { recursive: true, encoding: "utf8" })) {
        if (!file.endsWith(".ts") || file.endsWith(".test.ts")) continue;
        for (const m of readFileSync(join(src, file), "utf8").matchAll(/^\s*([A-Z][A-Z0-9_]+): /gm)) if (m[1]) keys.add(m[1]);
      }
    }
  }
  return keys;
}
