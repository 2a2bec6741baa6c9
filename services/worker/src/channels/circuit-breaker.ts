/**
 * A circuit breaker for one delivery channel, as a pure state machine over an injected clock.
 *
 * Closed: deliveries go through; `threshold` transient failures in a row (no success between)
 * open it. Open: nothing is tried until the cool-down has passed; the jobs wait in their queue
 * without being charged an attempt (see worker-service). Half-open: one delivery is tried as a
 * probe; success closes the circuit, failure opens it again with the cool-down doubled, up to
 * `maxOpenMs`. A permanent failure (a 4xx, a missing address) proves the receiver answers and
 * counts as a success here.
 */
export interface CircuitSettings {
  /** Transient failures in a row that open the circuit. */
  threshold: number;
  /** First cool-down; each failed probe doubles it. */
  openMs: number;
  /** Longest cool-down. */
  maxOpenMs: number;
}

export type CircuitState = "closed" | "open" | "half-open";

export interface CircuitBreaker {
  /** Whether a delivery may be tried now; when not, how long until the next probe. */
  permit(): { allowed: true } | { allowed: false; retryInMs: number };
  success(): void;
  /** A transient failure; returns true when this failure opened the circuit. */
  failure(): boolean;
  state(): CircuitState;
}

export function createCircuitBreaker(settings: CircuitSettings, now: () => number = Date.now): CircuitBreaker {
  let failures = 0;
  let openedUntil = 0;
  let cooldown = settings.openMs;
  let open = false;
  let probing = false;

  const state = (): CircuitState => (!open ? "closed" : now() < openedUntil ? "open" : "half-open");
  const trip = () => {
    open = true;
    probing = false;
    openedUntil = now() + cooldown;
  };

  return {
    state,
    permit() {
      const s = state();
      if (s === "closed") return { allowed: true };
      if (s === "open") return { allowed: false, retryInMs: openedUntil - now() };
      // Half-open: one probe at a time; the others wait a moment for its answer.
      if (probing) return { allowed: false, retryInMs: Math.min(1_000, settings.openMs) };
      probing = true;
      return { allowed: true };
    },
    success() {
      failures = 0;
      open = false;
      probing = false;
      cooldown = settings.openMs;
    },
    failure() {
      if (open) {
        // A failed probe (or a delivery that started before the circuit opened): wait longer.
        if (state() === "half-open") {
          cooldown = Math.min(settings.maxOpenMs, cooldown * 2);
          trip();
        }
        return false;
      }
      failures++;
      if (failures < settings.threshold) return false;
      trip();
      return true;
    },
  };
}
