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
const playbook = (d: { delayMinutes: number; priority: number; expiresAfterMinutes: number; purpose: "transactional" | "marketing" }) =>
  z
    .object({
      enabled: z.boolean().default(true),
      delayMinutes: z.number().min(0).default(d.delayMinutes),
      channel: ChannelName.default("log"),
      priority: z.number().int().min(1).max(2_097_152).default(d.priority),
      expiresAfterMinutes: z.number().positive().default(d.expiresAfterMinutes),
      /** Marketing needs consent and counts toward the cap; transactional does neither. */
      purpose: z.enum(["transactional", "marketing"]).default(d.purpose),
      /** Share of customers (0 to 0.5) held out as this playbook's control group: they get nothing. */
      holdoutShare: z.number().min(0).max(0.5).default(0),
    })
    .strict()
    .default({ enabled: true, channel: "log", holdoutShare: 0, ...d });

export const PlaybookSettings = z
  .object({
    // About something the customer did: transactional.
    "thank-you": playbook({ delayMinutes: 0, priority: 5, expiresAfterMinutes: 3 * DAY, purpose: "transactional" }),
    "csat-survey": playbook({ delayMinutes: 3 * DAY, priority: 10, expiresAfterMinutes: 7 * DAY, purpose: "transactional" }),
    recovery: playbook({ delayMinutes: 0, priority: 1, expiresAfterMinutes: 2 * DAY, purpose: "transactional" }),
    // Offers and invitations: marketing (consent, cap, unsubscribe link).
    "win-back-at-risk": playbook({ delayMinutes: HOUR, priority: 5, expiresAfterMinutes: 14 * DAY, purpose: "marketing" }),
    "win-back-churned": playbook({ delayMinutes: HOUR, priority: 5, expiresAfterMinutes: 30 * DAY, purpose: "marketing" }),
    "referral-invitation": playbook({ delayMinutes: DAY, priority: 20, expiresAfterMinutes: 14 * DAY, purpose: "marketing" }),
    "cross-sell": playbook({ delayMinutes: 7 * DAY, priority: 30, expiresAfterMinutes: 14 * DAY, purpose: "marketing" }),
    // Due when the ticket passes the response target; the delay is extra on top of it.
    escalation: playbook({ delayMinutes: 0, priority: 1, expiresAfterMinutes: DAY, purpose: "transactional" }),
    // Due at 09:00 UTC on the birthday; the delay is extra on top of it.
    "birthday-gift": playbook({ delayMinutes: 9 * HOUR, priority: 20, expiresAfterMinutes: 3 * DAY, purpose: "marketing" }),
  })
  .strict();
export type PlaybookSettings = z.infer<typeof PlaybookSettings>;
export type PlaybookConfig = PlaybookSettings[PlaybookName];

export const DEFAULT_PLAYBOOK_SETTINGS: PlaybookSettings = PlaybookSettings.parse({});
