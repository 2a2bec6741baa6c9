import { z } from "zod";
import { redactUrl } from "@lifecycle/logging";

/**
 * Environment of the worker's delivery channels. Spread it into the worker's schema and apply
 * {@link withChannelsCheck} to the object, which holds the rule that spans two variables.
 */
export const channelsEnv = {
  /** Receiver of signed follow-up webhooks; unset disables the webhook channel. */
  WEBHOOK_URL: z.url({ protocol: /^https?$/ }).optional().describe("Receiver of signed follow-up webhooks (http or https)"),
  /** HMAC-SHA256 key for `x-lifecycle-signature`; required when WEBHOOK_URL is set. */
  WEBHOOK_SECRET: z.string().min(16).optional().describe("Webhook signing secret, at least 16 characters"),
  /** How long one webhook attempt may take before it counts as failed (and is retried). @defaultValue 5000 */
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(5_000),
  /** SMTP server for e-mail follow-ups, e.g. `smtp://user:pass@mail:587` or `smtps://…`; unset disables e-mail. */
  SMTP_URL: z.url({ protocol: /^smtps?$/ }).optional().describe("SMTP server URL; credentials go in its user-info part"),
  /** Sender of follow-up e-mails. @defaultValue "Customer Lifecycle <noreply@localhost>" */
  EMAIL_FROM: z.string().trim().min(3).default("Customer Lifecycle <noreply@localhost>"),
};

/**
 * Config keys the logger must redact on top of `@lifecycle/config`'s `secretKeys`: the signing
 * secret, the SMTP URL (its user-info holds the SMTP password) and the webhook URL (receivers such
 * as chat webhooks carry their token in the path).
 */
export const channelsSecretKeys = ["WEBHOOK_SECRET", "SMTP_URL", "WEBHOOK_URL"] as const;

interface ChannelsEnvValues {
  WEBHOOK_URL?: string | undefined;
  WEBHOOK_SECRET?: string | undefined;
}

/** The cross-field rule of {@link channelsEnv}, for a schema's own `superRefine`. */
export function checkChannelsEnv(value: ChannelsEnvValues, ctx: z.RefinementCtx<ChannelsEnvValues>): void {
  if (value.WEBHOOK_URL !== undefined && value.WEBHOOK_SECRET === undefined) {
    ctx.addIssue({ code: "custom", path: ["WEBHOOK_SECRET"], message: "required when WEBHOOK_URL is set (receivers verify the signature with it)" });
  }
}

/** Applies {@link checkChannelsEnv} to a schema that contains {@link channelsEnv}; returns the same schema type. */
export function withChannelsCheck<S extends z.ZodType<ChannelsEnvValues>>(schema: S): S {
  return schema.superRefine(checkChannelsEnv);
}

/** What the channels are configured to, safe to log (no secret, no SMTP password, no URL path or query). */
export function describeChannels(config: { WEBHOOK_URL?: string | undefined; SMTP_URL?: string | undefined; EMAIL_FROM: string }) {
  return {
    webhook: config.WEBHOOK_URL === undefined ? "off" : new URL(config.WEBHOOK_URL).origin,
    email: config.SMTP_URL === undefined ? "off" : redactUrl(config.SMTP_URL),
    from: config.EMAIL_FROM,
  };
}
