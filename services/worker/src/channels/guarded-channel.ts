import { PermanentDeliveryError, type Channel } from "./channel.js";
import type { CircuitBreaker } from "./circuit-breaker.js";

/**
 * Thrown instead of a delivery while the channel's circuit is open: the worker puts the job back
 * in its queue without charging an attempt and pauses the queue for `retryInMs`.
 */
export class ChannelOpenError extends Error {
  constructor(
    readonly channel: string,
    readonly retryInMs: number,
  ) {
    super(`the ${channel} channel's circuit is open: retrying in ${Math.ceil(retryInMs / 1000)} s`);
    this.name = "ChannelOpenError";
  }
}

/**
 * A channel behind its circuit breaker. A transient failure (timeout, refused connection, 5xx)
 * counts against the receiver; a permanent one (4xx, no address) shows the receiver answers.
 * `onOpen` hears the failure that opened the circuit, with the cool-down.
 */
export function guardChannel(channel: Channel, breaker: CircuitBreaker, onOpen: (retryInMs: number) => void): Channel {
  return {
    name: channel.name,
    async send(delivery) {
      const permit = breaker.permit();
      if (!permit.allowed) throw new ChannelOpenError(channel.name, permit.retryInMs);
      try {
        const result = await channel.send(delivery);
        breaker.success();
        return result;
      } catch (err) {
        if (err instanceof PermanentDeliveryError) breaker.success();
        else if (breaker.failure()) {
          const p = breaker.permit();
          onOpen(p.allowed ? 0 : p.retryInMs);
        }
        throw err;
      }
    },
  };
}
