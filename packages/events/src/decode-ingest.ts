import { z } from "zod";
import { checkCurrency } from "./currency.js";
import { decodeLifecycleEvent, type DecodeOptions, type KafkaHeaders, type Rejection } from "./decode.js";
import { DEFAULT_MAX_FUTURE_SKEW_MS } from "./event-time.js";
import { err, type Result } from "./result.js";
import type { LifecycleEvent } from "./schemas/events.js";

/** The decoder's setting in a service's environment. */
export const decodeEnv = {
  /** How far past the machine's clock an event time may be; later events are dead-lettered (`time-in-future`). @defaultValue 86400000 (1 day) */
  MAX_FUTURE_SKEW_MS: z.coerce.number().int().min(0).max(30 * 86_400_000).default(DEFAULT_MAX_FUTURE_SKEW_MS),
};

/**
 * Everything an event must pass before it is applied, in one place for both doors in (the Kafka
 * consumer and POST /v1/events): the decoder, then a rate for its currency.
 */
export function decodeForIngest(
  value: Buffer | null,
  headers: KafkaHeaders,
  { rates, ...options }: DecodeOptions & { rates: Readonly<Record<string, string>> },
): Result<LifecycleEvent, Rejection> {
  const decoded = decodeLifecycleEvent(value, headers, options);
  if (!decoded.ok) return decoded;
  const rejection = checkCurrency(decoded.value, rates);
  return rejection ? err(rejection) : decoded;
}
