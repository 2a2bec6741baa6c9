import type { Logger } from "@lifecycle/logging";
import type { Channel } from "./channel.js";

/**
 * The default delivery channel: writes the follow-up to the log as a structured line. Real
 * teams start here before wiring a webhook or SMTP, and it keeps the demo self-contained.
 */
export function createLogChannel(logger: Logger): Channel {
  const log = logger.child({ module: "channel", channel: "log" });
  return {
    name: "log",
    async send(d) {
      log.info({ id: d.id, customerId: d.customer.id, playbook: d.playbook, trigger: d.trigger, subject: d.subject }, "follow-up delivered");
      return { detail: `logged ${d.playbook} for ${d.customer.id}` };
    },
  };
}
