// `npm run chaos -- --seed N --minutes M`: the whole stack under a steady stream of events and a
// seeded schedule of faults (processes killed, the broker, PostgreSQL and Redis restarted,
// receivers failing or hanging), then a drain and a checker that knows the right answer (issue 16).
// Exit 0: no violation; 1: violations (the report lists them); 2: the run itself failed.
// Everything it starts and makes is removed at the end, also on Ctrl-C; the services' logs are
// kept only when something was found (or with --keep-logs).
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { createPool } from "@lifecycle/db";
import { EngineSettings } from "@lifecycle/domain";
import { describeMachine } from "../machine.js";
import { createTeardown, exitOnSignals } from "../teardown.js";
import { checkCustomers } from "./check-customers.js";
import { checkEvents } from "./check-events.js";
import { checkFollowUps } from "./check-follow-ups.js";
import { checkStageChanges } from "./check-stage-changes.js";
import { startDeliveryMonitor } from "./delivery-monitor.js";
import { drain } from "./drain.js";
import { createEventStream } from "./event-stream.js";
import { faultSchedule } from "./fault-schedule.js";
import { runFaults } from "./inject-faults.js";
import { startLagMonitor } from "./lag-monitor.js";
import { startProducing } from "./producer.js";
import { countByKind, describeReport, recoverySummary, type ChaosReport, type FaultOutcome } from "./report.js";
import { startStack } from "./stack.js";

const { values } = parseArgs({
  options: {
    seed: { type: "string", default: "1" },
    minutes: { type: "string", default: "1" },
    customers: { type: "string", default: "2000" },
    rate: { type: "string", default: "40" },
    partitions: { type: "string", default: "4" },
    // Below the ephemeral range (32768 on), where the free ports of the run's other servers come from.
    "kafka-port": { type: "string", default: "29392" },
    "drain-minutes": { type: "string", default: "5" },
    /** Where the JSON report goes (the text one is printed either way). */
    report: { type: "string" },
    /** Keep the services' logs after a clean run too (a run with violations always keeps them). */
    "keep-logs": { type: "boolean", default: false },
  },
});
const seed = Number(values.seed);
const minutes = Number(values.minutes);
const customers = Number(values.customers);
const rate = Number(values.rate);
if (![seed, minutes, customers, rate].every(Number.isFinite) || minutes <= 0) {
  console.error("usage: npm run chaos -- --seed <n> --minutes <m> [--customers 2000] [--rate 40] [--report file.json] [--keep-logs]");
  process.exit(2);
}

const root = fileURLToPath(new URL("../../", import.meta.url));
const runId = `s${seed}-${Date.now().toString(36)}`;
const logDir = join(tmpdir(), `lifecycle-chaos-${runId}`);
mkdirSync(logDir, { recursive: true });
const t0Process = Date.now();
const say = (line: string) => console.log(`[chaos +${Math.round((Date.now() - t0Process) / 1000)}s] ${line}`);
const teardown = createTeardown();
exitOnSignals(teardown, say);

// What the services run with (stack.ts sets no thresholds: the defaults), and the one rate.
const settings = EngineSettings.parse({});
const rates = { USD: "1" };
const prefix = `x${seed}-`;

let exitCode = 2;
try {
  say(`run ${runId}: seed ${seed}, ${minutes} min of faults, ${customers} customers at ${rate} items/s; logs in ${logDir}`);
  const stack = await startStack({ root, runId, kafkaPort: values["kafka-port"], partitions: Number(values.partitions), logDir, teardown, say });
  const pool = createPool({ connectionString: stack.databaseUrl, max: 2, applicationName: "chaos-checker" });
  teardown.add("close the checker's pool", () => pool.end());
  const inputTopics = [stack.topics.customer, stack.topics.purchase, stack.topics.supportTicket, stack.topics.survey];

  const producer = stack.kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  teardown.add("disconnect the producer", () => producer.disconnect());
  const lag = startLagMonitor({ kafka: stack.kafka, groupId: stack.groupId, topics: inputTopics });
  const deliveries = startDeliveryMonitor(stack.receivers);
  const stream = createEventStream({ seed, customers, prefix, topics: stack.topics });

  const streamMs = minutes * 60_000;
  const faults = faultSchedule({ seed, streamMs });
  say(`schedule: ${faults.length} faults (${Object.entries(countByKind(faults)).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(", ")})`);
  const t0 = Date.now();
  const producing = startProducing({ stream, producer, apiUrl: stack.apiUrl, apiKey: stack.apiKey, rate, say });
  const records = await runFaults({ stack, faults, t0, say, stopping: () => teardown.stopping });
  const remaining = t0 + streamMs - Date.now();
  if (remaining > 0) await new Promise((r) => setTimeout(r, remaining));
  await producing.stop();
  const dueBy = new Date();
  say(`stream stopped: ${producing.log.items.length} items sent; draining`);

  const drained = await drain({ pool, kafka: stack.kafka, groupId: stack.groupId, topics: inputTopics, dueBy, prefix, timeoutMs: Number(values["drain-minutes"]) * 60_000, say });
  say(`drain ${drained.drained ? "complete" : "INCOMPLETE"} after ${(drained.ms / 1000).toFixed(1)} s; checking`);
  await lag.stop();
  deliveries.stop();

  const valid = producing.log.items.flatMap((i) => (i.kind === "valid" ? [i.event] : []));
  const [events, followUps, stageChanges, customersChecked] = [
    await checkEvents({ pool, kafka: stack.kafka, dlqTopic: stack.topics.dlq, log: producing.log, prefix }),
    await checkFollowUps({ pool, receivers: stack.receivers, dueBy, prefix }),
    await checkStageChanges({ pool, kafka: stack.kafka, topic: stack.topics.stageChanged, prefix }),
    await checkCustomers({ pool, events: valid, settings, rates }),
  ];
  const outcomes: FaultOutcome[] = records.map((f) => ({
    ...f,
    recoveryMs: f.endedAt === undefined ? undefined : lag.recoveryMs(f.endedAt),
    deliveriesResumedMs: f.endedAt !== undefined && (f.kind.startsWith("webhook") || f.kind.startsWith("smtp")) ? deliveries.resumedAfterMs(f.kind.startsWith("webhook") ? "webhook" : "email", f.endedAt) : undefined,
  }));
  const report: ChaosReport = {
    seed,
    minutes,
    machine: describeMachine({ runId }),
    customers,
    ratePerSecond: rate,
    events: events.figures,
    producerRetries: producing.log.retries,
    faults: outcomes,
    faultCounts: countByKind(records),
    recovery: recoverySummary(outcomes),
    maxLag: lag.maxLag(),
    restarts: { ingest: stack.ingest.restarts(), worker: stack.workers.restarts(), api: stack.api.restarts() },
    drain: drained,
    followUps: followUps.figures,
    stageChanges: stageChanges.figures,
    customersCompared: customersChecked.compared,
    violations: [...events.violations, ...followUps.violations, ...stageChanges.violations, ...customersChecked.violations],
  };
  if (!drained.drained) report.violations.push({ check: "events", detail: `the system did not drain within ${values["drain-minutes"]} min: lag ${drained.last.lag ?? "?"}, unpublished ${drained.last.unpublished ?? "?"}, follow-ups owed ${drained.last.owed ?? "?"}` });
  for (const line of describeReport(report, t0)) say(line);
  if (values.report !== undefined) {
    writeFileSync(values.report, `${JSON.stringify(report, null, 2)}\n`);
    say(`report: ${values.report}`);
  } else if (report.violations.length > 0) writeFileSync(join(logDir, "report.json"), `${JSON.stringify(report, null, 2)}\n`);
  exitCode = report.violations.length === 0 ? 0 : 1;
} catch (err) {
  say(`the run failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  exitCode = 2;
} finally {
  await teardown.runAll();
  if (exitCode === 0 && !values["keep-logs"]) rmSync(logDir, { recursive: true, force: true });
  else say(`logs kept${exitCode === 0 ? "" : " for the post-mortem"} in ${logDir}`);
}
process.exit(exitCode);
