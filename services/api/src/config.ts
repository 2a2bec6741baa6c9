import { z } from "zod";
import { CommaList, consentEnv, currencyEnv, kafkaEnv, logEnv, pgEnv, redisEnv } from "@lifecycle/config";
import { engineEnv } from "@lifecycle/engine";
import { decodeEnv, INPUT_TOPICS, TOPICS } from "@lifecycle/events";
import { tracingEnv } from "@lifecycle/telemetry";
import { templatesEnv } from "@lifecycle/templates";

export const ApiConfig = z.object({
  ...pgEnv,
  ...kafkaEnv,
  ...redisEnv,
  ...logEnv,
  ...engineEnv,
  ...currencyEnv,
  ...decodeEnv,
  ...tracingEnv,
  ...templatesEnv,
  UNSUBSCRIBE_SECRET: consentEnv.UNSUBSCRIBE_SECRET,
  /** @defaultValue 127.0.0.1 */
  API_HOST: z.string().min(1).default("127.0.0.1"),
  /** @defaultValue 8080 */
  API_PORT: z.coerce.number().int().min(0).max(65_535).default(8080),
  /** Requests a minute per API key. @defaultValue 600 */
  API_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(600),
  /** Largest request body. @defaultValue 1048576 (1 MiB) */
  API_BODY_LIMIT_BYTES: z.coerce.number().int().min(1_024).max(50 * 1_048_576).default(1_048_576),
  /** Where POST /v1/events produces, by event type. @defaultValue the four input topics */
  INPUT_TOPICS: CommaList.default([...INPUT_TOPICS]),
  STAGE_CHANGED_TOPIC: z.string().min(1).default(TOPICS.stageChanged),
});
export type ApiConfig = z.infer<typeof ApiConfig>;
