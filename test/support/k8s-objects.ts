/**
 * Typed views (zod) of the rendered Kubernetes objects that test/k8s-manifests.test.ts checks, and
 * the environment a container would see. Only the fields the checks read are declared; the schema
 * check itself (scripts/lib/k8s-manifests.ts) covers the rest.
 */
import { z } from "zod";
import type { Manifest } from "../../scripts/lib/k8s-manifests.js";

const Name = z.object({ name: z.string() });
const Labels = z.record(z.string(), z.string());
const Quantities = z.record(z.string(), z.union([z.string(), z.number()]));
const HttpProbe = z.object({ httpGet: z.object({ path: z.string(), port: z.union([z.string(), z.number()]) }) });

export const EnvVar = z.object({
  name: z.string(),
  value: z.string().optional(),
  valueFrom: z.object({ secretKeyRef: z.object({ name: z.string(), key: z.string(), optional: z.boolean().default(false) }).optional() }).optional(),
});

export const Container = z.object({
  name: z.string(),
  image: z.string(),
  args: z.array(z.string()).optional(),
  env: z.array(EnvVar).default([]),
  envFrom: z.array(z.object({ configMapRef: Name.optional(), secretRef: Name.optional() })).default([]),
  ports: z.array(z.object({ name: z.string().optional(), containerPort: z.number() })).default([]),
  startupProbe: HttpProbe.optional(),
  livenessProbe: HttpProbe.optional(),
  readinessProbe: HttpProbe.optional(),
  resources: z.object({ requests: Quantities.default({}), limits: Quantities.default({}) }).default({ requests: {}, limits: {} }),
  securityContext: z
    .object({
      allowPrivilegeEscalation: z.boolean().optional(),
      readOnlyRootFilesystem: z.boolean().optional(),
      capabilities: z.object({ drop: z.array(z.string()).default([]) }).optional(),
    })
    .default({}),
  volumeMounts: z.array(z.object({ name: z.string(), mountPath: z.string() })).default([]),
});
export type Container = z.infer<typeof Container>;

const Volume = z.object({
  name: z.string(),
  emptyDir: z.looseObject({}).optional(),
  projected: z
    .object({ sources: z.array(z.object({ secret: z.object({ name: z.string(), items: z.array(z.object({ key: z.string(), path: z.string() })).default([]) }).optional() })) })
    .optional(),
});
export type Volume = z.infer<typeof Volume>;

export const PodSpec = z.object({
  automountServiceAccountToken: z.boolean().optional(),
  securityContext: z
    .object({ runAsNonRoot: z.boolean().optional(), runAsUser: z.number().optional(), seccompProfile: z.object({ type: z.string() }).optional() })
    .default({}),
  containers: z.array(Container).min(1),
  volumes: z.array(Volume).default([]),
});
export type PodSpec = z.infer<typeof PodSpec>;

/** A Deployment or a Job: what runs, with the labels of its pods. */
export const Workload = z.object({
  metadata: Name,
  spec: z.object({
    replicas: z.number().optional(),
    selector: z.object({ matchLabels: Labels }).optional(),
    template: z.object({ metadata: z.object({ labels: Labels }), spec: PodSpec }),
  }),
});
export type Workload = z.infer<typeof Workload>;

export const ConfigMap = z.object({ metadata: Name, data: z.record(z.string(), z.string()).default({}) });
export const Pdb = z.object({ metadata: Name, spec: z.object({ selector: z.object({ matchLabels: Labels }) }) });
export const Hpa = z.object({
  metadata: Name,
  spec: z.object({ scaleTargetRef: z.object({ apiVersion: z.string(), kind: z.string(), name: z.string() }), metrics: z.array(z.object({ resource: Name.optional() })).default([]) }),
});
export const ScaledObject = z.object({
  metadata: Name,
  spec: z.object({
    scaleTargetRef: z.object({ name: z.string(), envSourceContainerName: z.string().optional() }),
    maxReplicaCount: z.number(),
    triggers: z.array(z.object({ type: z.string(), metadata: z.record(z.string(), z.string()), authenticationRef: Name.optional() })).min(1),
  }),
});
export const TriggerAuthentication = z.object({
  metadata: Name,
  spec: z.object({ secretTargetRef: z.array(z.object({ parameter: z.string(), name: z.string(), key: z.string() })).default([]) }),
});

/** The objects of one kind, parsed with `view`. */
export function objectsOf<T>(manifests: readonly Manifest[], type: string, view: z.ZodType<T>): T[] {
  return manifests.filter((m) => m.type === type).map((m) => view.parse(m.body));
}

/** Placeholder values for settings that come from Secrets, shaped like real ones. */
const SECRET_PLACEHOLDERS: Record<string, string> = {
  DATABASE_URL: "postgres://lifecycle:secret@db.invalid:5432/lifecycle?sslmode=verify-full",
  REDIS_URL: "rediss://:secret@redis.invalid:6380",
};

/**
 * The environment the container starts with: its ConfigMaps (envFrom), then its own `env` (which
 * wins, as in Kubernetes). Values from Secrets are placeholders. `secrets` names the Secrets that
 * exist: a kustomization that generates Secrets (overlays/local) has those only; one that renders
 * none (production) expects every referenced Secret to be created beside it.
 */
export function environmentOf(container: Container, configMaps: readonly z.infer<typeof ConfigMap>[], secrets?: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const from of container.envFrom) {
    const data = configMaps.find((c) => c.metadata.name === from.configMapRef?.name)?.data ?? {};
    Object.assign(env, data);
  }
  for (const v of container.env) {
    const ref = v.valueFrom?.secretKeyRef;
    if (ref?.optional && secrets && !secrets.includes(ref.name)) continue;
    env[v.name] = v.value ?? SECRET_PLACEHOLDERS[v.name] ?? `secret:${ref?.key ?? "?"}`;
  }
  return env;
}

/** The Secret and key that a file path inside the container comes from (a projected volume), if any. */
export function secretFileAt(path: string, container: Container, volumes: readonly Volume[]): { name: string; key: string } | undefined {
  for (const mount of container.volumeMounts) {
    if (!path.startsWith(`${mount.mountPath}/`)) continue;
    const rest = path.slice(mount.mountPath.length + 1);
    for (const source of volumes.find((v) => v.name === mount.name)?.projected?.sources ?? []) {
      const item = source.secret?.items.find((i) => i.path === rest);
      if (source.secret && item) return { name: source.secret.name, key: item.key };
    }
  }
  return undefined;
}
