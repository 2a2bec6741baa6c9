import { z } from "zod";
import { CommaList, consentEnv, currencyEnv, kafkaEnv, logEnv, pgEnv, redisEnv } from "@lifecycle/config";
import { engineEnv } from "@lifecycle/engine";
import { decodeEnv, INPUT_TOPICS, TOPICS } from "@lifecycle/events";
import { tracingEnv } from "@lifecycle/telemetry";
import { DEFAULT_LIMITS } from "./deps.js";
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
  /** Requests a minute per API key, after authentication. @defaultValue 600 */
  API_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(600),
  /** Requests a minute per client address, before authentication (every route but /healthz). @defaultValue 1200 */
  API_ADDRESS_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(DEFAULT_LIMITS.perAddressPerMinute),
  /** Failed authentications a minute per client address; past it, 429 without a key lookup. @defaultValue 20 */
  API_AUTH_FAILURES_PER_MINUTE: z.coerce.number().int().min(1).default(DEFAULT_LIMITS.authFailuresPerMinute),
  /** /readyz requests a minute per client address. @defaultValue 60 */
  API_READYZ_PER_MINUTE: z.coerce.number().int().min(1).default(DEFAULT_LIMITS.readyzPerMinute),
  /**
   * Which proxies in front of the API to believe about the client's address (X-Forwarded-For):
   * `false` (the socket's peer), `true` (any: only when every request comes through your proxy), or
   * the proxies' addresses/CIDRs separated by commas (e.g. `10.0.0.0/8`).
   * @defaultValue false
   */
  API_TRUST_PROXY: z
    .string()
    .trim()
    .default("false")
    .transform((v): boolean | string[] => (v === "false" ? false : v === "true" ? true : v.split(",").map((s) => s.trim()).filter(Boolean))),
  /** Largest request body. @defaultValue 1048576 (1 MiB) */
  API_BODY_LIMIT_BYTES: z.coerce.number().int().min(1_024).max(50 * 1_048_576).default(1_048_576),
  /** Where POST /v1/events produces, by event type. @defaultValue the four input topics */
  INPUT_TOPICS: CommaList.default([...INPUT_TOPICS]),
  STAGE_CHANGED_TOPIC: z.string().min(1).default(TOPICS.stageChanged),
});
export type ApiConfig = z.infer<typeof ApiConfig>;
