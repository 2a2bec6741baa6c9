import { z } from "zod";

import { ChannelName, PlaybookName } from "@lifecycle/events";

export { ChannelName, PlaybookName };

const MINUTE = 1;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * One playbook: when its job runs after the trigger (`delayMinutes`; the escalation's delay is the
 * response target, the birthday's is the birthday), through which channel, at which BullMQ
 * priority (1 runs first), and how long after it was due it is still worth sending: a backfill
 * of old history must not mail last year's thank-yous.
 */
const playbook = (d: { delayMinutes: number; priority: number; expiresAfterMinutes: number }) =>
  z
    .object({
      enabled: z.boolean().default(true),
      delayMinutes: z.number().min(0).default(d.delayMinutes),
      channel: ChannelName.default("log"),
      priority: z.number().int().min(1).max(2_097_152).default(d.priority),
      expiresAfterMinutes: z.number().positive().default(d.expiresAfterMinutes),
    })
    .strict()
    .default({ enabled: true, channel: "log", ...d });

export const PlaybookSettings = z
  .object({
    "thank-you": playbook({ delayMinutes: 0, priority: 5, expiresAfterMinutes: 3 * DAY }),
    "csat-survey": playbook({ delayMinutes: 3 * DAY, priority: 10, expiresAfterMinutes: 7 * DAY }),
    recovery: playbook({ delayMinutes: 0, priority: 1, expiresAfterMinutes: 2 * DAY }),
    "win-back-at-risk": playbook({ delayMinutes: HOUR, priority: 5, expiresAfterMinutes: 14 * DAY }),
    "win-back-churned": playbook({ delayMinutes: HOUR, priority: 5, expiresAfterMinutes: 30 * DAY }),
    "referral-invitation": playbook({ delayMinutes: DAY, priority: 20, expiresAfterMinutes: 14 * DAY }),
    "cross-sell": playbook({ delayMinutes: 7 * DAY, priority: 30, expiresAfterMinutes: 14 * DAY }),
    // Due when the ticket passes the response target; the delay is extra on top of it.
    escalation: playbook({ delayMinutes: 0, priority: 1, expiresAfterMinutes: DAY }),
    // Due at 09:00 UTC on the birthday; the delay is extra on top of it.
    "birthday-gift": playbook({ delayMinutes: 9 * HOUR, priority: 20, expiresAfterMinutes: 3 * DAY }),
  })
  .strict();
export type PlaybookSettings = z.infer<typeof PlaybookSettings>;
export type PlaybookConfig = PlaybookSettings[PlaybookName];

export const DEFAULT_PLAYBOOK_SETTINGS: PlaybookSettings = PlaybookSettings.parse({});
