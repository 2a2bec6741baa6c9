import { z } from "zod";
import { logEnv, pgEnv, redisEnv } from "@lifecycle/config";

export const WorkerConfig = z.object({
  ...pgEnv,
  ...redisEnv,
  ...logEnv,
  /** Jobs run at once per process. @defaultValue 5 */
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(100).default(5),
});
export type WorkerConfig = z.infer<typeof WorkerConfig>;
