// `tsx bench/chaos/reliability-table.ts report1.json report2.json …`: the Markdown tables of
// docs/reliability.md from chaos reports (`npm run chaos -- … --report file.json`), so the
// document says exactly what the runs measured.
import { readFileSync } from "node:fs";
import type { ChaosReport } from "./report.js";

/** Our own reports, written by chaos.ts from the ChaosReport type: checked for the parts that say so. */
function isChaosReport(x: unknown): x is ChaosReport {
  return typeof x === "object" && x !== null && "seed" in x && typeof x.seed === "number" && "faults" in x && Array.isArray(x.faults) && "followUps" in x;
}
const reports = process.argv.slice(2).map((file): ChaosReport => {
  const parsed: unknown = JSON.parse(readFileSync(file, "utf8"));
  if (!isChaosReport(parsed)) throw new Error(`${file} is not a chaos report`);
  return parsed;
});
if (reports.length === 0) {
  console.error("usage: tsx bench/chaos/reliability-table.ts <report.json> …");
  process.exit(2);
}
reports.sort((a, b) => a.seed - b.seed);
const s = (ms: number | undefined) => (ms === undefined ? "—" : (ms / 1000).toFixed(1));
const sum = (f: (r: ChaosReport) => number) => reports.reduce((n, r) => n + f(r), 0);

console.log("| seed | min | events sent | valid (distinct) | re-sent | bad | faults | recovery median / max (s) | not recovered | drain (s) | follow-ups due | sent / skipped / failed | duplicate deliveries | stage changes | customers checked | violations |");
console.log("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
for (const r of reports) {
  const o = r.followUps.outcomes;
  console.log(
    `| ${r.seed} | ${r.minutes} | ${r.events.produced} | ${r.events.distinctValid} | ${r.events.duplicatesSent} | ${r.events.bad} | ${r.faults.length} | ${s(r.recovery.medianMs)} / ${s(r.recovery.maxMs)} | ${r.recovery.notRecovered} | ${s(r.drain.ms)} | ${r.followUps.due} | ${o.sent ?? 0} / ${o.skipped ?? 0} / ${o.failed ?? 0} | ${r.followUps.duplicateDeliveries.webhook + r.followUps.duplicateDeliveries.email} | ${r.stageChanges.recorded} | ${r.customersCompared} | ${r.violations.length} |`,
  );
}
console.log(`| **all** | ${sum((r) => r.minutes)} | ${sum((r) => r.events.produced)} | ${sum((r) => r.events.distinctValid)} | ${sum((r) => r.events.duplicatesSent)} | ${sum((r) => r.events.bad)} | ${sum((r) => r.faults.length)} | | ${sum((r) => r.recovery.notRecovered)} | | ${sum((r) => r.followUps.due)} | | ${sum((r) => r.followUps.duplicateDeliveries.webhook + r.followUps.duplicateDeliveries.email)} | ${sum((r) => r.stageChanges.recorded)} | | ${sum((r) => r.violations.length)} |`);

// Recovery by fault kind over every run: how long the ingest group took to catch up after each.
const byKind = new Map<string, number[]>();
const missing = new Map<string, number>();
for (const f of reports.flatMap((r) => r.faults)) {
  if (f.recoveryMs === undefined) missing.set(f.kind, (missing.get(f.kind) ?? 0) + 1);
  else byKind.set(f.kind, [...(byKind.get(f.kind) ?? []), f.recoveryMs]);
}
const kinds = [...new Set([...byKind.keys(), ...missing.keys()])].sort();
console.log("\n| fault | count | recovery median (s) | p90 (s) | max (s) | deliveries resumed after, median (s) |");
console.log("|---|---:|---:|---:|---:|---:|");
for (const k of kinds) {
  const t = [...(byKind.get(k) ?? [])].sort((a, b) => a - b);
  const q = (p: number) => (t.length ? t[Math.min(t.length - 1, Math.floor(p * (t.length - 1)))] : undefined);
  const resumed = reports.flatMap((r) => r.faults.filter((f) => f.kind === k && f.deliveriesResumedMs !== undefined).map((f) => f.deliveriesResumedMs ?? 0)).sort((a, b) => a - b);
  const count = t.length + (missing.get(k) ?? 0);
  console.log(`| ${k} | ${count} | ${s(q(0.5))} | ${s(q(0.9))} | ${s(q(1))} | ${resumed.length ? s(resumed[Math.floor((resumed.length - 1) / 2)]) : "—"} |`);
}
const m = reports[0]?.machine;
console.log(`\nMachine: ${String(m?.cpu)}, ${String(m?.cores)} cores, ${String(m?.memoryGiB)} GiB, ${String(m?.os)}, Node ${String(m?.node)}; reports written between ${String(reports[0]?.machine.date)} and ${String(reports.at(-1)?.machine.date)} (seed order).`);
