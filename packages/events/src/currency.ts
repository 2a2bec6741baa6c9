import type { Rejection } from "./decode.js";
import type { LifecycleEvent } from "./schemas/events.js";

/**
 * Amounts are kept in one base currency so they can be summed honestly. An amount in a currency
 * with no configured rate is rejected (to the dead-letter topic, replayable once a rate is
 * configured) rather than summed at a made-up rate or silently left out.
 */
export function checkCurrency(event: LifecycleEvent, rates: Readonly<Record<string, string>>): Rejection | undefined {
  if (event.type !== "purchase.completed" && event.type !== "purchase.refunded") return undefined;
  if (Object.hasOwn(rates, event.data.currency)) return undefined;
  return {
    kind: "unsupported-currency",
    message: `data.currency: no rate from ${event.data.currency} to the base currency; configured: ${Object.keys(rates).join(", ")}`,
    paths: ["data.currency"],
  };
}
