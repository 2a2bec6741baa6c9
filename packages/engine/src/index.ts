export { createClock, type Clock, type ClockMode } from "./clock.js";
export { createModelsRepo, createModelCache, type ModelsRepo, type ModelCache } from "./models.repo.js";
export { evaluateCustomers, stageChangedEvent, type EvaluateResult } from "./evaluate-customers.js";
export { sweepDueCustomers, SWEEP_LOCK_KEY, type SweepDeps, type SweepResult } from "./sweep.js";
export { refitModels, DAYS_PER_UNIT, type RefitDeps, type RefitResult } from "./refit.js";
export { engineEnv, engineSettings } from "./engine-config.js";
export { createLifecycleEngine, type LifecycleEngine } from "./lifecycle-engine.js";
export { computeMeasures, MeasuresQuery, MeasuresQueryError, type Measures, type MeasuresGroup, type MeasuresGroupBy, type MeasuresReport } from "./measures/index.js";
export { followUpJobFor, followUpMessage } from "./follow-up-message.js";
