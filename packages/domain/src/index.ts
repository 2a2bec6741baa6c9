// Pure lifecycle logic. Nothing here does IO or reads the clock: time comes in as an argument.
export * from "./stages/index.js";
export * from "./clv/index.js";
export { HealthSettings, healthScore, type HealthInput, type HealthPart, type HealthScore } from "./health/health-score.js";
export {
  ClvSettings,
  EngineSettings,
  evaluateCustomer,
  summaryFromFacts,
  type CustomerState,
  type Evaluation,
  type FittedModels,
  type Prediction,
} from "./evaluate/evaluate-customer.js";
export { expectedLifespan, MIN_CHURN_HISTORY_DAYS, type Lifespan, type LifespanSource, type MeasuredChurn } from "./evaluate/lifespan.js";
export * from "./measures/index.js";
export * from "./playbooks/index.js";
export * from "./delivery/index.js";
export { canonicalIds, type IdentityLink } from "./identity/canonical-ids.js";
