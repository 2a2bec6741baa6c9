export { createRedisConnection, type Redis } from "./redis.js";
export { createJobQueue, type JobQueue } from "./job-queue.js";
