import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ConfigError, loadConfig, secretKeys } from "@lifecycle/config";
import { createLogger } from "@lifecycle/logging";
import { channelsEnv, channelsSecretKeys, describeChannels, withChannelsCheck } from "./channels-config.js";

const schema = withChannelsCheck(z.object({ ...channelsEnv, OTHER: z.string().default("x") }));

function issuesOf(source: Record<string, string>): string {
  try {
    loadConfig(schema, source);
  } catch (e) {
    if (e instanceof ConfigError) return e.issues.join("\n");
    throw e;
  }
  return "";
}

describe("channelsEnv", () => {
  it("leaves both channels off by default", () => {
    const cfg = loadConfig(schema, {});
    expect(cfg).toEqual({ WEBHOOK_TIMEOUT_MS: 5_000, EMAIL_FROM: "Customer Lifecycle <noreply@localhost>", OTHER: "x" });
    expect(describeChannels(cfg)).toEqual({ webhook: "off", email: "off", from: "Customer Lifecycle <noreply@localhost>" });
  });

  it("requires a secret of 16 characters or more once a webhook URL is set", () => {
    expect(issuesOf({ WEBHOOK_URL: "https://crm.example.com/hooks" })).toMatch(/^WEBHOOK_SECRET: required when WEBHOOK_URL is set/m);
    expect(issuesOf({ WEBHOOK_URL: "https://crm.example.com/hooks", WEBHOOK_SECRET: "too-short" })).toMatch(/^WEBHOOK_SECRET:/m);
    const cfg = loadConfig(schema, { WEBHOOK_URL: "https://crm.example.com/hooks?token=t0k", WEBHOOK_SECRET: "0123456789abcdef", WEBHOOK_TIMEOUT_MS: "2500" });
    expect(cfg.WEBHOOK_TIMEOUT_MS).toBe(2_500);
    expect(describeChannels(cfg).webhook).toBe("https://crm.example.com");
  });

  it("accepts only http(s) webhooks and smtp(s) servers", () => {
    expect(issuesOf({ WEBHOOK_URL: "ftp://crm.example.com", WEBHOOK_SECRET: "0123456789abcdef" })).toMatch(/^WEBHOOK_URL:/m);
    expect(issuesOf({ SMTP_URL: "http://mail.example.com" })).toMatch(/^SMTP_URL:/m);
    expect(issuesOf({ SMTP_URL: "smtps://mail.example.com:465" })).toBe("");
  });

  it("keeps the SMTP password and the webhook secret out of the log", () => {
    const cfg = loadConfig(schema, { SMTP_URL: "smtp://mailer:s3cret-pass@mail.example.com:587", WEBHOOK_URL: "https://h.example/x", WEBHOOK_SECRET: "0123456789abcdef" });
    expect(describeChannels(cfg).email).toBe("smtp://mailer:redacted@mail.example.com:587");

    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString());
        cb();
      },
    });
    const log = createLogger({ name: "t", secretKeys: [...secretKeys, ...channelsSecretKeys], destination });
    log.info({ config: cfg, ...cfg }, "config");
    expect(lines.join("")).not.toMatch(/s3cret-pass|0123456789abcdef/);
  });
});
