export { createRedisConnection, createRedisFromSettings, verifyRedis, type Redis } from "./redis.js";
export { createFollowUpQueues, type FollowUpQueues, type FollowUpToQueue } from "./follow-up-queues.js";
