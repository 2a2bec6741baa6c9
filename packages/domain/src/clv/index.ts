// Public surface of the CLV models. Everything here is pure: no IO, no clock.

export {
  ageAtPAliveThreshold,
  bgNbdLogLikelihood,
  conditionalExpectedTransactions,
  expectedTransactions,
  expectedTransactionsIfAlive,
  fitBgNbd,
  pAlive,
  type BgNbdCustomer,
  type BgNbdCustomerArgs,
  type BgNbdFit,
  type BgNbdParams,
  type FitBgNbdOptions,
} from "./bgnbd.js";
export {
  chooseModel,
  MODEL_SETTINGS,
  type ModelCandidate,
  type ModelChoice,
  type ModelSetting,
} from "./choose-model.js";
export {
  COUNT_MODEL_KINDS,
  countModel,
  fitCountModel,
  type CountModel,
  type CountModelFit,
  type CountModelKind,
  type CountModelSpec,
  type CountSummary,
} from "./count-model.js";
export { type CountCustomer } from "./customer-rows.js";
export {
  conditionalExpectedSpend,
  fitGammaGamma,
  gammaGammaLogLikelihood,
  populationMeanSpend,
  type FitGammaGammaOptions,
  type GammaGammaCustomer,
  type GammaGammaFit,
  type GammaGammaParams,
} from "./gamma-gamma.js";
export { judgeFit, type FitGuard, type FitJudgement, type FitRejectionReason, type FitToJudge } from "./fit-guard.js";
export {
  validateHoldout,
  type CalibrationSummary,
  type ConditionalExpectation,
  type HoldoutCustomer,
  type HoldoutGroup,
  type HoldoutValidation,
  type HoldoutValidationInput,
  type TrackingPoint,
} from "./holdout-validation.js";
export {
  minimizePositive,
  POSITIVE_LOWER_BOUND,
  POSITIVE_UPPER_BOUND,
  nelderMead,
  type MinimizePositiveOptions,
  type NelderMeadOptions,
  type NelderMeadResult,
} from "./nelder-mead.js";
export {
  fitParetoNbd,
  paretoNbdAgeAtPAliveThreshold,
  paretoNbdConditionalExpectedTransactions,
  paretoNbdExpectedTransactions,
  paretoNbdExpectedTransactionsIfAlive,
  paretoNbdLogLikelihood,
  paretoNbdPAlive,
  type FitParetoNbdOptions,
  type ParetoNbdCustomerArgs,
  type ParetoNbdFit,
  type ParetoNbdParams,
} from "./pareto-nbd.js";
export { predictiveClv, type PredictiveClv, type PredictiveClvInput } from "./predictive-clv.js";
export { rfmSummary, utcDay, type Purchase, type RfmSummary, type RfmSummaryInput } from "./rfm-summary.js";
export {
  clvCacRatio,
  historicalClvCents,
  lifespanYearsFromChurn,
  profitClvCents,
  recurringRevenueCents,
  roundCents,
  simpleClvCents,
  type ClvCacRatio,
} from "./simple-clv.js";
export { hyp2f1, logBeta, logGamma, logHyp2f1, logSumExp, type Hyp2f1Args } from "./special.js";
