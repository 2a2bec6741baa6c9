import type { ConsentRepo } from "@lifecycle/db";
import { PermanentDeliveryError, type Channel } from "./channel.js";

/** The receiving server refused the address itself (SMTP 5xx to RCPT TO): a hard bounce. */
export class RecipientRefusedError extends PermanentDeliveryError {
  constructor(message: string) {
    super(message);
    this.name = "RecipientRefusedError";
  }
}

/**
 * Suppresses a channel for a customer when it hard-bounces: the address is gone, and mailing it
 * again harms the sender's reputation (the bulk-sender rules of Gmail and Yahoo). The suppression
 * is stored as consent (`suppressed`, source `hard-bounce`), so every later message on the channel
 * is skipped with why until a newer consent event from the customer lifts it.
 */
export function suppressOnHardBounce(channel: Channel, consents: ConsentRepo, now: () => Date = () => new Date()): Channel {
  return {
    name: channel.name,
    async send(delivery) {
      try {
        return await channel.send(delivery);
      } catch (err) {
        if (err instanceof RecipientRefusedError && channel.name !== "log") {
          await consents.suppress({ customerId: delivery.customer.id, channel: channel.name, source: "hard-bounce", at: now(), id: `hard-bounce:${delivery.id}` });
        }
        throw err;
      }
    },
  };
}
