import { z } from "zod";
import { CommaList, currencyEnv, kafkaEnv, logEnv, pgEnv, probeEnv, ratesOf, redisEnv } from "@lifecycle/config";
import { decodeEnv, INPUT_TOPICS, TOPICS } from "@lifecycle/events";
import { engineEnv } from "@lifecycle/engine";
import { relayEnv } from "@lifecycle/pipeline";
import { tracingEnv } from "@lifecycle/telemetry";

export const IngestConfig = z.object({
  ...pgEnv,
  ...kafkaEnv,
  ...redisEnv,
  ...logEnv,
  ...engineEnv,
  ...relayEnv,
  ...decodeEnv,
  ...probeEnv(9464),
  ...tracingEnv,
  /** Consumer group of the lifecycle consumer. @defaultValue lifecycle-ingest */
  INGEST_GROUP_ID: z.string().min(1).default("lifecycle-ingest"),
  /**
   * How long the group waits for a silent member (a crashed process) before handing its
   * partitions to the others. Lower recovers faster; too low evicts busy members. @defaultValue 30000
   */
  INGEST_SESSION_TIMEOUT_MS: z.coerce.number().int().min(6_000).max(300_000).default(30_000),
  /**
   * Partition batches handled at once; the batches waiting together are applied in one database
   * transaction. At least the partitions a replica reads (4 topics × 12 by default): then all the
   * batches of one fetch share a transaction instead of waiting in waves. @defaultValue 48
   */
  INGEST_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(48),
  /** Ingest transactions in flight at once, each holding a connection. @defaultValue 2 */
  INGEST_TRANSACTIONS: z.coerce.number().int().min(1).max(64).default(2),
  /** Input topics, comma-separated. @defaultValue the four topics of CONTRACT.md section 1 */
  INPUT_TOPICS: CommaList.default([...INPUT_TOPICS]),
  /** Where undecodable and invalid events go, with the reason. @defaultValue lifecycle-dlq */
  DLQ_TOPIC: z.string().min(1).default(TOPICS.deadLetter),
  /**
   * Partitions for topics this service creates when they are missing: the most ingest replicas
   * that can share an input topic. @defaultValue 12
   */
  TOPIC_PARTITIONS: z.coerce.number().int().min(1).max(1000).default(12),
  ...currencyEnv,
})
  .refine((c) => c.INGEST_TRANSACTIONS < c.PG_POOL_MAX, { path: ["INGEST_TRANSACTIONS"], message: "must be below PG_POOL_MAX: each transaction in flight holds a connection, and the outbox relay needs one" })
  .transform((c) => ({ ...c, rates: ratesOf(c) }));
export type IngestConfig = z.infer<typeof IngestConfig>;
