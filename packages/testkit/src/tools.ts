// The testkit's helpers that do not need vitest: the demo, the replay CLI and the benchmark use
// them from `@lifecycle/testkit/tools`. The package root adds the vitest fixtures on top.
export { startService, type ServiceProcess } from "./service-process.js";
export { produceEvents, readTopic, readWholeTopic, consumerLag, groupProgress, groupMembers, type GroupMember, type PartitionProgress } from "./kafka-helpers.js";
export { waitFor } from "./wait-for.js";
export { uniqueName } from "./unique-name.js";
export { removeRedisKeys } from "./redis-keys.js";
export { startPrivateRedis } from "./private-redis.js";
