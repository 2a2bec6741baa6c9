export { createRedisConnection, createRedisFromSettings, verifyRedis, checkRedisDurability, type Redis, type RedisDurability } from "./redis.js";
export { createFollowUpQueues, type FollowUpQueues, type FollowUpToQueue } from "./follow-up-queues.js";
