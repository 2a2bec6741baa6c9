export { TOPICS, INPUT_TOPICS, inputTopicsFrom, topicForType, type TopicKey, type InputTopics } from "./topics.js";
export { CloudEventEnvelope, RFC3339_WITH_OFFSET } from "./cloud-event.js";
export { Traceparent, TRACEPARENT } from "./trace-context.js";
export { DEFAULT_MAX_FUTURE_SKEW_MS, eventTimeProblem } from "./event-time.js";
export {
  decodeCloudEvent,
  decodeLifecycleEvent,
  validateLifecycleEvent,
  issuesToRejection,
  REJECTION_KINDS,
  type DecodeOptions,
  type KafkaHeaders,
  type Rejection,
} from "./decode.js";
export * from "./schemas/events.js";
export { SURVEY_SCALES } from "./schemas/survey.js";
export { CONSENT_CHANNELS, ConsentChannel } from "./schemas/customer.js";
export { QUEUES, JOB_CATALOG, FollowUpJob, PERSONAL_CONTEXT_KEYS, withoutPersonalContext, followUpJobId, followUpJobParts, followUpQueue, channelOfQueue, followUpRetryDelayMs, PLAYBOOKS, PlaybookName, CHANNELS, ChannelName, type JobName, type RetrySchedule } from "./jobs.js";
export { ok, err, type Result } from "./result.js";
export { parseCdnowLine, cdnowRowToEvent, cdnowRowsToEvents, createCdnowMapper, type CdnowRow } from "./cdnow.js";
export { syntheticEvents, seededRandom, type SyntheticOptions } from "./synthetic.js";
export { LIFECYCLE_STAGES, Stage, StageChanged, StageChangedData } from "./schemas/stage-changed.js";
export { buildContractDocs } from "./contract-docs.js";
export { checkCurrency } from "./currency.js";
export { decodeEnv, decodeForIngest } from "./decode-ingest.js";
export { OutboxMessage, FollowUpOutboxMessage, StageChangedOutboxMessage, CustomerErasedOutboxMessage, CustomerMergedOutboxMessage } from "./outbox.js";
export { CustomerMergedOut, CustomerMergedOutData } from "./schemas/customer-merged.js";
export { ExternalId, CustomerIdentifiedData, CustomerMergedData, MAX_LINKED_IDS } from "./schemas/identity.js";
export { CustomerErased, CustomerErasedData, StageTopicEvent } from "./schemas/customer-erased.js";
