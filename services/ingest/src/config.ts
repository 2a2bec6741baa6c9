import { z } from "zod";
import { CommaList, JsonEnv, kafkaEnv, logEnv, pgEnv, probeEnv, redisEnv } from "@lifecycle/config";
import { INPUT_TOPICS, TOPICS } from "@lifecycle/events";
import { engineEnv } from "@lifecycle/engine";

export const IngestConfig = z.object({
  ...pgEnv,
  ...kafkaEnv,
  ...redisEnv,
  ...logEnv,
  ...engineEnv,
  ...probeEnv(9464),
  /** Consumer group of the lifecycle consumer. @defaultValue lifecycle-ingest */
  INGEST_GROUP_ID: z.string().min(1).default("lifecycle-ingest"),
  /**
   * How long the group waits for a silent member (a crashed process) before handing its
   * partitions to the others. Lower recovers faster; too low evicts busy members. @defaultValue 30000
   */
  INGEST_SESSION_TIMEOUT_MS: z.coerce.number().int().min(6_000).max(300_000).default(30_000),
  /** Partitions processed at once; each holds its own database transaction. @defaultValue 2 */
  INGEST_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2),
  /** Input topics, comma-separated. @defaultValue the four topics of CONTRACT.md section 1 */
  INPUT_TOPICS: CommaList.default([...INPUT_TOPICS]),
  /** Where undecodable and invalid events go, with the reason. @defaultValue lifecycle-dlq */
  DLQ_TOPIC: z.string().min(1).default(TOPICS.deadLetter),
  /** Where stage changes are published (CONTRACT.md section 4). @defaultValue lifecycle-stage-changed */
  STAGE_CHANGED_TOPIC: z.string().min(1).default(TOPICS.stageChanged),
  /** Partitions for topics this service creates when they are missing. @defaultValue 3 */
  TOPIC_PARTITIONS: z.coerce.number().int().min(1).max(1000).default(3),
  /** The currency every amount is summed in. @defaultValue USD */
  BASE_CURRENCY: z.string().regex(/^[A-Z]{3}$/).default("USD"),
  /**
   * Rates to the base currency as JSON, e.g. `{"EUR":"1.08","GBP":"1.27"}` (1 EUR = 1.08 base).
   * Amounts in other currencies go to the dead-letter topic. @defaultValue {} (base currency only)
   */
  FX_RATES: JsonEnv.pipe(z.record(z.string().regex(/^[A-Z]{3}$/), z.union([z.string().regex(/^\d+(\.\d+)?$/), z.number().positive()]).transform(String))),
})
  .transform((c) => ({ ...c, rates: { ...c.FX_RATES, [c.BASE_CURRENCY]: "1" } }));
export type IngestConfig = z.infer<typeof IngestConfig>;
