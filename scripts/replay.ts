// `npm run replay -- <file>... [--verify] [--format jsonl|cdnow]`: streams files of events into the
// input topics. JSON lines (our CloudEvents, one per line; gzipped too, as retention archives them)
// or the CDNOW transaction files. With --verify it waits for the ingest service to catch up and
// checks Postgres against the file (the CDNOW totals: one CDNOW file).
import { existsSync, statSync } from "node:fs";
import { parseArgs } from "node:util";
import { z } from "zod";
import { CommaList, kafkaEnv, loadConfig, pgEnv } from "@lifecycle/config";
import { createPool } from "@lifecycle/db";
import { INPUT_TOPICS, inputTopicsFrom } from "@lifecycle/events";
import { createKafkaFromSettings, verifyKafka } from "@lifecycle/kafka";
import { createLogger } from "@lifecycle/logging";
import { consumerLag, waitFor } from "@lifecycle/testkit/tools";
import { createProgress } from "./lib/progress.js";
import { formatCents, replayFile } from "./lib/replay.js";
import { cdnowTotalsInPostgres } from "./lib/cdnow-totals.js";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { verify: { type: "boolean", default: false }, format: { type: "string" } },
});
const missing = positionals.filter((p) => !existsSync(p));
if (positionals.length === 0 || missing.length) {
  console.error(`usage: npm run replay -- <file>... [--verify] [--format jsonl|cdnow]${missing.length ? ` (not found: ${missing.join(", ")})` : ""}`);
  process.exit(2);
}
const format = values.format === "jsonl" || values.format === "cdnow" ? values.format : undefined;
const config = loadConfig(
  z.object({
    ...kafkaEnv,
    ...pgEnv,
    INGEST_GROUP_ID: z.string().default("lifecycle-ingest"),
    // The same setting as the ingest service and the API: where each kind of event goes.
    INPUT_TOPICS: CommaList.default([...INPUT_TOPICS]).refine((l) => inputTopicsFrom(l) !== undefined, "four topics: customer, purchase, support-ticket, survey events"),
  }),
);
const topics = inputTopicsFrom(config.INPUT_TOPICS);
const kafka = createKafkaFromSettings(config, { clientId: "replay", logger: createLogger({ name: "replay", level: "warn", pretty: false }) });
// A wrong password or CA is one line naming the setting, not a kafkajs stack after minutes of retries.
await verifyKafka(kafka).catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});

let cdnow: { rows: number; customers: number; cents: bigint } | undefined;
for (const path of positionals) {
  // CDNOW rows are ~30 bytes, JSON events ~250 (gzipped ~40): a rough total for the progress bar.
  const estimate = Math.round(statSync(path).size / (path.endsWith(".txt") ? 30 : path.endsWith(".gz") ? 40 : 250));
  const progress = createProgress(`replay ${path}`, estimate);
  const result = await replayFile({ kafka, path, format, topics, onProgress: (n) => progress.update(n) });
  const { rate } = progress.done(result.sent);
  console.log(`replayed ${result.sent.toLocaleString("en-US")} events (${result.format}) from ${path} in ${result.seconds.toFixed(1)} s: ${rate.toLocaleString("en-US")} events/s`);
  if (result.cdnow) cdnow = positionals.length === 1 ? result.cdnow : undefined;
}

if (values.verify) {
  console.log(`waiting for the ingest group '${config.INGEST_GROUP_ID}' to catch up (is the ingest service running?) ...`);
  for (const topic of config.INPUT_TOPICS) {
    await waitFor(`ingest to catch up on ${topic}`, async () => ((await consumerLag(kafka, config.INGEST_GROUP_ID, topic)) === 0 ? true : undefined), { timeoutMs: 300_000, intervalMs: 500 });
  }
  if (cdnow) {
    const pool = createPool({ connectionString: config.DATABASE_URL, max: 1 });
    try {
      const db = await cdnowTotalsInPostgres(pool);
      const file = cdnow;
      const same = db.rows === file.rows && db.customers === file.customers && db.cents === file.cents;
      console.log(`file:     ${file.rows.toLocaleString("en-US")} purchases, ${file.customers.toLocaleString("en-US")} customers, $${formatCents(file.cents)}`);
      console.log(`postgres: ${db.rows.toLocaleString("en-US")} purchases, ${db.customers.toLocaleString("en-US")} customers, $${formatCents(db.cents)}`);
      console.log(same ? "totals match" : "TOTALS DIFFER");
      process.exitCode = same ? 0 : 1;
    } finally {
      await pool.end();
    }
  } else {
    console.log("ingest has consumed everything; rejected lines are in the dead-letter topic with their reasons");
  }
}
