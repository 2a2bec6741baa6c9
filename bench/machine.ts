import { cpus, totalmem, type as osType, release } from "node:os";

/** What the figures were measured on: they mean little without it. */
export function describeMachine(extra: Record<string, string>) {
  const cpu = cpus();
  return {
    date: new Date().toISOString(),
    cpu: `${cpu.length} × ${cpu[0]?.model ?? "unknown"}`,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    os: `${osType()} ${release()}`,
    node: process.version,
    ...extra,
  };
}
