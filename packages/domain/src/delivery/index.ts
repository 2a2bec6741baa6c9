// When and whether a follow-up may reach a customer: consent, frequency caps, quiet hours in
// the customer's time zone, and holdout groups with their measured uplift. Pure rules; the
// worker applies them with the customer's stored state.
export { consentAllows, type Purpose, type ConsentRegime, type ConsentStatus, type ChannelConsent, type ConsentDecision } from "./consent.js";
export { checkFrequencyCap, type FrequencyCap, type CapCandidate, type CapDecision } from "./frequency-cap.js";
export { quietHoursEnd, type QuietHours } from "./quiet-hours.js";
export { instantAt, isTimeZone, localParts, nextDay, type LocalParts } from "./local-time.js";
export { CONFIDENCE_LEVELS, isHeldOut, uplift, type Confidence, type Group, type Uplift } from "./holdout.js";
export { decideDelivery, DeliverySettings, type DeliveryDecision, type DeliveryInput } from "./decide-delivery.js";
