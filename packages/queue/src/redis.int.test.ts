import { afterAll, beforeAll } from "vitest";
import { describe, expect, test, uniqueName } from "@lifecycle/testkit";
import { createFollowUpQueues } from "./follow-up-queues.js";
import { createRedisConnection, verifyRedis } from "./redis.js";

// Redis with credentials (issue 10): an ACL user made on the test Redis for this file only.
const user = uniqueName("acl-user");
const password = uniqueName("pw");

describe("Redis with a password", () => {
  let admin: ReturnType<typeof createRedisConnection>;
  let url: URL;
  test.beforeAll(({ infra }) => {
    url = new URL(infra.redis.url);
    admin = createRedisConnection(infra.redis.url, "acl-admin");
  });
  beforeAll(async () => {
    await admin.call("ACL", "SETUSER", user, "on", `>${password}`, "~*", "&*", "+@all");
  });
  afterAll(async () => {
    await admin.call("ACL", "DELUSER", user);
    admin.disconnect();
  });

  const urlWith = (pass: string) => `redis://${encodeURIComponent(user)}:${encodeURIComponent(pass)}@${url.host}`;

  test("the right credentials: verified, and follow-ups queue", async () => {
    const redis = createRedisConnection(urlWith(password), "acl-right");
    try {
      await verifyRedis(redis);
      const prefix = uniqueName("acl-q");
      const queues = createFollowUpQueues({ connection: redis, prefix });
      await queues.queues.log.add("probe", { ok: true }, { jobId: "probe-1" });
      expect(await queues.queues.log.getJobCounts("waiting", "prioritized", "delayed")).toMatchObject({ waiting: 1 });
      await queues.obliterate();
      await queues.close();
    } finally {
      redis.disconnect();
    }
  });

  test("a wrong password: a start-up error naming the setting, in seconds, not a hang", async () => {
    const redis = createRedisConnection(urlWith("wrong"), "acl-wrong");
    const t0 = Date.now();
    try {
      await expect(verifyRedis(redis, { timeoutMs: 10_000 })).rejects.toThrow(/^REDIS_URL: Redis refused the credentials \(WRONGPASS/);
      expect(Date.now() - t0).toBeLessThan(5_000);
    } finally {
      redis.disconnect();
    }
  });
});
