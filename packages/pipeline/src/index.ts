export { applyEvents, createApplyDeps, type AcceptedEvent, type ApplyDeps, type ApplyOutcome } from "./apply-events.js";
export { createDeadLetterWriter, type DeadLetter, type DeadLetterWriter } from "./dead-letter.js";
export { createOutboxRelay, type OutboxRelay, type OutboxRelayDeps } from "./outbox-relay.js";
export { createRelayMetrics, type RelayMetrics } from "./relay-metrics.js";
export { applyIsolatingPoison, addOutcomes, type DbRejected } from "./isolate-poison.js";
export { relayEnv } from "./relay-config.js";
export { stageChangePublisher } from "./stage-change-publisher.js";
export { createBatchMerger, type BatchMerger, type BatchMergerOptions, type MergedShare } from "./batch-merger.js";
export { createFollowUpReconciler, reconcileMarkerKey, type FollowUpReconciler } from "./follow-up-reconciler.js";
