import { cpus, loadavg, totalmem, type as osType, release } from "node:os";

/** What the figures were measured on, and when: they mean little without it. */
export function describeMachine(extra: Record<string, string>) {
  const cpu = cpus();
  return {
    date: new Date().toISOString(),
    cpu: cpu[0]?.model ?? "unknown",
    cores: cpu.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    os: `${osType()} ${release()}`,
    node: process.version,
    // Others' work on a shared machine shows here; figures taken under load say so.
    loadAverage1m: Number(loadavg()[0]?.toFixed(2) ?? Number.NaN),
    ...extra,
  };
}
