/**
 * Renders the kustomizations under infra/k8s and checks every object against the Kubernetes
 * schemas, offline. Two checks, because the OpenAPI schemas alone accept unknown fields:
 *  - the schema: the `kubernetes-models` classes validate with the official OpenAPI schemas
 *    (Kubernetes 1.33; KEDA 2.10's CRDs through `@kubernetes-models/keda`): types, formats such
 *    as quantities, enums and required fields;
 *  - unknown fields: each object is type-checked by the TypeScript compiler against the same
 *    models' declarations (k8s-unknown-fields.ts), which rejects a field the API does not know
 *    (`readinesProbe`), as `kubectl apply --validate=strict` would against a live API server.
 * Used by scripts/validate-k8s.ts (CI) and test/k8s-manifests.test.ts.
 */
import { execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import { z } from "zod";
import { ScaledObject } from "@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject";
import { TriggerAuthentication } from "@kubernetes-models/keda/keda.sh/v1alpha1/TriggerAuthentication";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler";
import { Job } from "kubernetes-models/batch/v1/Job";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Namespace } from "kubernetes-models/v1/Namespace";
import { Secret } from "kubernetes-models/v1/Secret";
import { Service } from "kubernetes-models/v1/Service";
import { ServiceAccount } from "kubernetes-models/v1/ServiceAccount";
import { unknownFieldErrors } from "./k8s-unknown-fields.js";

export const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const K8S_DIR = join(REPO_ROOT, "infra/k8s");

interface KindSchema {
  /** A kubernetes-models class: `validate()` checks the instance against the OpenAPI schema. */
  model: new () => { validate(): void };
  /** The module declaring its TypeScript interface, `I<kind>`. */
  types: string;
}

/**
 * The kinds our manifests may contain, each with its schema. Anything else fails validation:
 * add a kind here (with its model) deliberately when the manifests need it.
 */
export const KINDS: Readonly<Record<string, KindSchema>> = {
  "v1/ConfigMap": { model: ConfigMap, types: "kubernetes-models/v1/ConfigMap" },
  "v1/Namespace": { model: Namespace, types: "kubernetes-models/v1/Namespace" },
  "v1/Secret": { model: Secret, types: "kubernetes-models/v1/Secret" },
  "v1/Service": { model: Service, types: "kubernetes-models/v1/Service" },
  "v1/ServiceAccount": { model: ServiceAccount, types: "kubernetes-models/v1/ServiceAccount" },
  "apps/v1/Deployment": { model: Deployment, types: "kubernetes-models/apps/v1/Deployment" },
  "batch/v1/Job": { model: Job, types: "kubernetes-models/batch/v1/Job" },
  "policy/v1/PodDisruptionBudget": { model: PodDisruptionBudget, types: "kubernetes-models/policy/v1/PodDisruptionBudget" },
  "autoscaling/v2/HorizontalPodAutoscaler": { model: HorizontalPodAutoscaler, types: "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler" },
  "keda.sh/v1alpha1/ScaledObject": { model: ScaledObject, types: "@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject" },
  "keda.sh/v1alpha1/TriggerAuthentication": { model: TriggerAuthentication, types: "@kubernetes-models/keda/keda.sh/v1alpha1/TriggerAuthentication" },
};

const TypeMeta = z.looseObject({
  apiVersion: z.string().min(1),
  kind: z.string().min(1),
  metadata: z.looseObject({ name: z.string().min(1) }),
});
const Body = z.record(z.string(), z.unknown());

export interface Manifest {
  /** `apiVersion/kind`, the key of {@link KINDS}. */
  type: string;
  kind: string;
  name: string;
  /** The object as rendered. */
  body: Record<string, unknown>;
}

/** The kustomizations to render: the base and every overlay, as paths relative to infra/k8s. */
export function kustomizations(): string[] {
  const overlays = readdirSync(join(K8S_DIR, "overlays"), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => `overlays/${d.name}`)
    .sort();
  return ["base", ...overlays];
}

/** `kubectl kustomize <dir>`: the rendered multi-document YAML. */
export function render(dir: string): string {
  try {
    return execFileSync("kubectl", ["kustomize", dir], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 16 * 1024 * 1024 });
  } catch (err) {
    const stderr = typeof err === "object" && err !== null && "stderr" in err ? String(err.stderr).trim() : "";
    const why = err instanceof Error && "code" in err && err.code === "ENOENT" ? "kubectl is not installed (it renders the kustomizations)" : stderr || String(err);
    throw new Error(`kubectl kustomize ${relative(REPO_ROOT, dir) || dir}: ${why}`);
  }
}

/** Splits rendered YAML into objects; a YAML error or an object without apiVersion, kind and name throws. */
export function parseManifests(yamlText: string): Manifest[] {
  return parseAllDocuments(yamlText).flatMap((doc, i) => {
    if (doc.errors.length > 0) throw new Error(`document ${i + 1}: ${doc.errors.map((e) => e.message).join("; ")}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) return [];
    const meta = TypeMeta.safeParse(value);
    if (!meta.success) throw new Error(`document ${i + 1} is not a Kubernetes object: ${z.prettifyError(meta.error)}`);
    const { apiVersion, kind, metadata } = meta.data;
    return [{ type: `${apiVersion}/${kind}`, kind, name: metadata.name, body: Body.parse(value) }];
  });
}

/** Schema errors of one object ([] when valid); an unknown apiVersion/kind is an error too. */
export function schemaErrors(manifest: Manifest): string[] {
  const schema = KINDS[manifest.type];
  if (!schema) return [`no schema for ${manifest.type} here: add it to KINDS in scripts/lib/k8s-manifests.ts`];
  const instance = new schema.model();
  Object.assign(instance, withUnwrappedSecretData(manifest));
  try {
    instance.validate();
    return [];
  } catch (err) {
    return [err instanceof Error ? err.message : String(err)];
  }
}

/**
 * kustomize wraps a generated Secret's base64 values at 70 characters. The API server decodes
 * them with Go's base64, which skips line breaks; the schema's `byte` format does not, so the
 * breaks are taken out before the schema check.
 */
function withUnwrappedSecretData(manifest: Manifest): Record<string, unknown> {
  const data = Body.safeParse(manifest.body.data);
  if (manifest.type !== "v1/Secret" || !data.success) return manifest.body;
  const unwrapped = Object.fromEntries(Object.entries(data.data).map(([k, v]) => [k, typeof v === "string" ? v.replace(/[\r\n]/g, "") : v]));
  return { ...manifest.body, data: unwrapped };
}

export interface Verdict {
  manifest: Manifest;
  errors: string[];
}

/** Both checks for every object (one TypeScript program for all of them: a few seconds). */
export function validateManifests(manifests: readonly Manifest[]): Verdict[] {
  const known = manifests.filter((m) => KINDS[m.type] !== undefined);
  const unknownFields = unknownFieldErrors(known.map((m) => ({ types: KINDS[m.type]?.types ?? "", kind: m.kind, body: m.body })));
  return manifests.map((manifest) => {
    const k = known.indexOf(manifest);
    return { manifest, errors: [...schemaErrors(manifest), ...(k >= 0 ? (unknownFields[k] ?? []) : [])] };
  });
}
