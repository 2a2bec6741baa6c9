export { createKafka, createKafkaFromSettings, type CreateKafkaOptions } from "./create-kafka.js";
export { kafkaSecurityFrom, KafkaSettingsError, type KafkaSecurity, type KafkaSecuritySettings } from "./kafka-security.js";
export { ensureTopics, type TopicSpec } from "./ensure-topics.js";
export { waitForKafka } from "./wait-for-kafka.js";
export { verifyKafka } from "./verify-kafka.js";
export { createEventPublisher, type EventPublisher } from "./event-publisher.js";
export { describeTopicRetention, longestKept, type TopicRetention } from "./topic-retention.js";
