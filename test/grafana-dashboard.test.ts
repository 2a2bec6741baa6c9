import { readFileSync } from "node:fs";
import { collectDefaultMetrics, Registry } from "prom-client";
import { z } from "zod";
import { createIngestMetrics } from "@lifecycle/ingest";
import { createRelayMetrics } from "@lifecycle/pipeline";
import { createWorkerMetrics } from "@lifecycle/worker";
import { describe, expect, it } from "vitest";

// Issue 10, point 7: the ops dashboard may only name metrics (and labels) our processes export.
// The catalogue is built from the same factories the services register on their /metrics.
const DASHBOARD = new URL("../infra/grafana/customer-lifecycle.json", import.meta.url);

const Dashboard = z.object({
  title: z.string(),
  uid: z.string(),
  panels: z.array(z.object({ type: z.string(), title: z.string(), targets: z.array(z.object({ expr: z.string().min(1) })).optional() })),
});

/** Every metric name a process of ours exports, with its label names (histograms add their series). */
async function exportedMetrics(): Promise<Map<string, Set<string>>> {
  const registry = new Registry();
  createIngestMetrics(registry);
  createRelayMetrics(registry);
  createWorkerMetrics([], registry);
  collectDefaultMetrics({ register: registry });
  const catalogue = new Map<string, Set<string>>();
  for (const { name, type } of await registry.getMetricsAsJSON()) {
    const metric = registry.getSingleMetric(name);
    const labelNames: unknown = metric ? Reflect.get(metric, "labelNames") : undefined;
    const labels = new Set(z.array(z.string()).catch([]).parse(labelNames));
    catalogue.set(name, labels);
    if (String(type) === "histogram") {
      catalogue.set(`${name}_bucket`, new Set([...labels, "le"]));
      for (const suffix of ["_sum", "_count"]) catalogue.set(`${name}${suffix}`, labels);
    }
  }
  return catalogue;
}

// Labels Prometheus adds to every scraped series.
const TARGET_LABELS = new Set(["job", "instance"]);
const PROMQL_WORDS = new Set(["sum", "max", "min", "avg", "count", "rate", "increase", "irate", "by", "without", "histogram_quantile", "le", "on", "ignoring"]);

/** What an expression asks for: metric names, and label names used in selectors or groupings. */
function referencesIn(expr: string): { metrics: string[]; labels: Array<{ metric: string | undefined; label: string }> } {
  const metrics: string[] = [];
  const labels: Array<{ metric: string | undefined; label: string }> = [];
  const withoutStrings = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""').replace(/\[[^\]]*\]/g, "");
  for (const m of withoutStrings.matchAll(/\b([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\{([^}]*)\})?/g)) {
    const [, word = "", selector, inside = ""] = m;
    if (PROMQL_WORDS.has(word) || /^\d/.test(word) || word.startsWith("$")) continue;
    if (selector === undefined && !/_(total|seconds|bytes|messages|jobs|bucket|sum|count)$/.test(word)) continue;
    metrics.push(word);
    for (const l of inside.matchAll(/([a-zA-Z_]\w*)\s*(=~|!=|!~|=)/g)) labels.push({ metric: word, label: l[1] ?? "" });
  }
  for (const g of withoutStrings.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g)) {
    for (const label of (g[1] ?? "").split(",").map((s) => s.trim()).filter(Boolean)) labels.push({ metric: undefined, label });
  }
  return { metrics, labels };
}

function problemsIn(exprs: readonly string[], catalogue: Map<string, Set<string>>): string[] {
  const problems: string[] = [];
  for (const expr of exprs) {
    const { metrics, labels } = referencesIn(expr);
    if (metrics.length === 0) problems.push(`no metric in: ${expr}`);
    for (const name of metrics) if (!catalogue.has(name)) problems.push(`${name} is not exported (in: ${expr})`);
    const known = new Set([...TARGET_LABELS, "le", ...metrics.flatMap((n) => [...(catalogue.get(n) ?? [])])]);
    for (const { metric, label } of labels) {
      const allowed = metric ? new Set([...TARGET_LABELS, ...(catalogue.get(metric) ?? [])]) : known;
      if (!allowed.has(label)) problems.push(`label ${label} is not on ${metric ?? metrics.join(", ")} (in: ${expr})`);
    }
  }
  return problems;
}

describe("the Grafana dashboard", () => {
  const dashboard = Dashboard.parse(JSON.parse(readFileSync(DASHBOARD, "utf8")));
  const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));

  it("covers what ops watch: ingest rate and lag, dead letters by reason, stage transitions, queue depth, follow-up outcomes", () => {
    const all = exprs.join("\n");
    for (const needed of ["lifecycle_ingest_events_total", "lifecycle_ingest_lag_messages", 'outcome="dead_lettered"', "lifecycle_stage_changes_total", "lifecycle_queue_jobs", "lifecycle_follow_ups_total"]) {
      expect(all).toContain(needed);
    }
  });

  it("names only metrics and labels our processes export", async () => {
    const catalogue = await exportedMetrics();
    expect(catalogue.size).toBeGreaterThan(20);
    expect(problemsIn(exprs, catalogue)).toEqual([]);
  });

  it("would catch a metric or a label we do not export", async () => {
    const catalogue = await exportedMetrics();
    expect(problemsIn(['sum(rate(lifecycle_ingest_events_totl{job=~"$job"}[5m]))'], catalogue)).toEqual([expect.stringContaining("lifecycle_ingest_events_totl is not exported")]);
    expect(problemsIn(['sum by (reason) (rate(lifecycle_ingest_events_total{outcome="dead_lettered"}[5m]))'], catalogue)).toEqual([expect.stringContaining("label reason is not on")]);
    expect(problemsIn(['max by (queue) (lifecycle_queue_jobs{status="waiting"})'], catalogue)).toEqual([expect.stringContaining("label status is not on lifecycle_queue_jobs")]);
  });
});
