import type { ChannelName } from "@lifecycle/events";

/**
 * Why a message is sent: `transactional` (about something the customer did or asked for: a
 * receipt-like thank-you, a survey about their ticket, an escalation) or `marketing` (win-back,
 * cross-sell, referral invitations, birthday gifts), which needs consent.
 */
export type Purpose = "transactional" | "marketing";

/**
 * `opt-in` (GDPR/ePrivacy style): marketing only to customers who said yes. `opt-out` (CAN-SPAM
 * style): marketing unless they said no.
 */
export type ConsentRegime = "opt-in" | "opt-out";

export type ConsentStatus = "granted" | "withdrawn";

/** One customer's consent and suppressions on one channel, as stored. */
export interface ChannelConsent {
  /** Unset: the customer never said either way. */
  status?: ConsentStatus | undefined;
  /** A hard bounce or a complaint: nothing more goes to this address, whatever the purpose. */
  suppressed?: { reason: "hard-bounce" | "complaint"; at: Date } | undefined;
}

export type ConsentDecision = { send: true } | { send: false; why: string };

/**
 * May a message of `purpose` go to the customer on `channel`? Suppression stops every message
 * (the address does not work, or the customer reported us); marketing also needs consent under
 * the regime. Channels without an address of the customer (the log, a webhook to a CRM) are
 * not covered by e-mail consent but still by the customer's marketing consent on `webhook`.
 */
export function consentAllows({ purpose, channel, consent, regime }: { purpose: Purpose; channel: ChannelName; consent: ChannelConsent | undefined; regime: ConsentRegime }): ConsentDecision {
  if (consent?.suppressed) return { send: false, why: `no-consent: ${channel} suppressed after a ${consent.suppressed.reason} on ${consent.suppressed.at.toISOString()}` };
  if (purpose === "transactional") return { send: true };
  if (consent?.status === "withdrawn") return { send: false, why: `no-consent: marketing on ${channel} withdrawn` };
  if (regime === "opt-in" && consent?.status !== "granted") return { send: false, why: `no-consent: marketing on ${channel} needs an opt-in (regime opt-in)` };
  return { send: true };
}
