import { z } from "zod";
import { logEnv, pgEnv, redisEnv } from "@lifecycle/config";
import { engineEnv } from "@lifecycle/engine";

export const WorkerConfig = z.object({
  ...pgEnv,
  ...redisEnv,
  ...logEnv,
  ...engineEnv,
  /** How often the stage sweep looks for customers whose windows have run out. @defaultValue 60000 */
  SWEEP_INTERVAL_MS: z.coerce.number().int().min(1_000).default(60_000),
  /** How often BG/NBD and Gamma-Gamma are refitted. @defaultValue 86400000 (daily) */
  REFIT_INTERVAL_MS: z.coerce.number().int().min(60_000).default(86_400_000),
  /** Jobs run at once per process. @defaultValue 5 */
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(100).default(5),
});
export type WorkerConfig = z.infer<typeof WorkerConfig>;
