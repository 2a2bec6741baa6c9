export { StageRules, DEFAULT_STAGE_RULES } from "./stage-rules.js";
export type { StageFacts } from "./stage-facts.js";
export { deriveStage, STAGES, type DerivedStage, type StageName } from "./derive-stage.js";
export { decideTransition, type CurrentStage, type StageTransition } from "./decide-transition.js";
