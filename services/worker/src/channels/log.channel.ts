import type { Logger } from "@lifecycle/logging";
import type { FollowUpJob } from "@lifecycle/events";

/**
 * The default delivery channel: writes the follow-up to the log as a structured line. Real
 * teams start here before wiring a webhook or SMTP, and it keeps the demo self-contained.
 */
export function createLogChannel(logger: Logger) {
  const log = logger.child({ module: "channel", channel: "log" });
  return {
    async deliver(job: FollowUpJob): Promise<{ detail: string }> {
      log.info({ customerId: job.customerId, playbook: job.playbook, trigger: job.trigger }, "follow-up delivered");
      return { detail: `logged ${job.playbook} for ${job.customerId}` };
    },
  };
}
export type LogChannel = ReturnType<typeof createLogChannel>;
