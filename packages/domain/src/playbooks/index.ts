export { PlaybookSettings, DEFAULT_PLAYBOOK_SETTINGS, type PlaybookConfig } from "./playbook-settings.js";
export { triggersForEvents, triggersForTransition, birthdayIntent, nextBirthday, type FollowUpIntent } from "./triggers.js";
export { checkFollowUp, whyExpired, type FollowUpCheck, type FollowUpCheckState } from "./check-follow-up.js";
