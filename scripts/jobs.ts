// `npm run jobs -- [status | failed | retry]`: the follow-up queues from the command line.
//   status  jobs per state in each channel's queue (the default)
//   failed  the failed set: job id, attempts, last error
//   retry   moves every failed job back to waiting (each keeps its id, so nothing is sent twice)
import { z } from "zod";
import { loadConfig, redisEnv } from "@lifecycle/config";
import { CHANNELS } from "@lifecycle/events";
import { createFollowUpQueues, createRedisFromSettings } from "@lifecycle/queue";

const command = process.argv[2] ?? "status";
const config = loadConfig(z.object({ ...redisEnv }));
const connection = createRedisFromSettings(config, "lifecycle-jobs-cli");
const followUps = createFollowUpQueues({ connection, prefix: config.QUEUE_PREFIX });
const { queues } = followUps;

try {
  for (const channel of CHANNELS) {
    const queue = queues[channel];
    switch (command) {
      case "status":
        console.log(channel.padEnd(8), JSON.stringify(await queue.getJobCounts("waiting", "delayed", "prioritized", "active", "completed", "failed")));
        break;
      case "failed":
        for (const job of await queue.getFailed(0, 199)) console.log(`${channel}\t${job.id ?? "?"}\tattempts ${job.attemptsMade}\t${job.failedReason}`);
        break;
      case "retry": {
        const failed = await queue.getFailed(0, -1);
        for (const job of failed) await job.retry("failed");
        console.log(`${channel}: ${failed.length} failed job(s) moved back to waiting`);
        break;
      }
      default:
        console.error("usage: npm run jobs -- [status | failed | retry]");
        process.exitCode = 2;
    }
    if (process.exitCode === 2) break;
  }
} finally {
  await followUps.close();
  connection.disconnect();
}
