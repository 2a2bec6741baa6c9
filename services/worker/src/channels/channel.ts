import { UnrecoverableError } from "bullmq";

/** What a channel delivers: one follow-up for one customer, rendered. */
export interface Delivery {
  /** The BullMQ job id: stable per (customer, playbook, trigger); receivers dedupe on it. */
  id: string;
  playbook: string;
  trigger: string;
  /** The event that caused it (CloudEvents id). */
  causationId: string;
  customer: { id: string; email?: string | undefined; name?: string | undefined };
  /** Short human text (e-mail subject, log line). */
  subject: string;
  /** Body text. */
  text: string;
  /** The same body as an HTML document (e-mail sends both, multipart/alternative). */
  html?: string | undefined;
  /** Machine-readable details for webhooks (stage, CLV, ticket id …). */
  data: Record<string, unknown>;
  /** Marketing needs consent and carries an unsubscribe link; transactional does not. */
  purpose: "transactional" | "marketing";
  /** The customer's consent on this channel when it was sent (a webhook receiver may check it again). */
  consent: "granted" | "withdrawn" | "suppressed" | "unknown";
  /** The customer's IANA time zone, when known (a webhook receiver schedules by it). */
  timeZone?: string | undefined;
  /** Signed one-click unsubscribe URL (RFC 8058), on marketing e-mail. */
  unsubscribeUrl?: string | undefined;
  /** The job's span: the channel's delivery span continues it (and a webhook passes it on). */
  traceparent?: string | undefined;
}

export interface Channel {
  readonly name: "log" | "webhook" | "email";
  /** Resolves with a short description of what happened; throws to fail the attempt. */
  send(delivery: Delivery): Promise<{ detail: string }>;
}

/**
 * A delivery that can never succeed as it is (a 4xx from the receiver, no e-mail address):
 * BullMQ fails the job at once instead of retrying it.
 */
export class PermanentDeliveryError extends UnrecoverableError {
  constructor(message: string) {
    super(message);
    this.name = "PermanentDeliveryError";
  }
}
