import { ATTR, SpanKind, traceparentOf, withSpan, type Span } from "@lifecycle/telemetry";
import { PermanentDeliveryError, type Channel, type Delivery } from "./channel.js";
import { SIGNATURE_HEADER, signWebhookBody } from "./webhook-signature.js";

export { verifyWebhookSignature, signWebhookBody, SIGNATURE_HEADER, type SignatureCheck, type VerifyWebhookSignatureOptions } from "./webhook-signature.js";

/** The header receivers dedupe on: the delivery (BullMQ job) id, the same on every retry. */
export const ID_HEADER = "x-lifecycle-id";
/** W3C Trace Context: the receiver's own spans can continue the follow-up's trace. */
export const TRACEPARENT_HEADER = "traceparent";

/** The JSON body of a follow-up webhook. */
export interface WebhookPayload {
  id: string;
  type: "lifecycle.follow-up";
  playbook: string;
  trigger: string;
  causationId: string;
  customer: Delivery["customer"];
  subject: string;
  text: string;
  /** The same message as HTML, as the e-mail channel would send it. */
  html?: string;
  data: Record<string, unknown>;
  /** `marketing` follow-ups need the customer's consent, which `consent` states as we know it. */
  purpose: Delivery["purpose"];
  consent: Delivery["consent"];
  /** The customer's IANA time zone, when known: schedule sends to the customer by it (quiet hours are yours to keep). */
  timeZone?: string;
  /** When this attempt was sent (ISO 8601); differs between retries, unlike `id`. */
  sentAt: string;
}

export interface WebhookChannelOptions {
  /** The receiver's URL. It is never logged or put into error messages: it may carry a token. */
  url: string;
  /** HMAC-SHA256 key shared with the receiver. */
  secret: string;
  /** Limit for one attempt: connecting, sending and the answer (headers and the start of an error body). */
  timeoutMs: number;
  /** @defaultValue the global `fetch` (undici) */
  fetch?: typeof fetch;
  /** Clock for `sentAt` and the signature timestamp. @defaultValue `() => new Date()` */
  now?: () => Date;
}

/** How an HTTP status counts for the delivery: BullMQ retries "retry" and gives up on "permanent". */
export function classifyWebhookStatus(status: number): "ok" | "retry" | "permanent" {
  if (status >= 200 && status < 300) return "ok";
  if (status === 408 || status === 429) return "retry";
  // Any other 4xx will not change by asking again. A 3xx means the configured URL is wrong:
  // redirects are not followed, so a signed POST never lands somewhere it was not sent.
  if (status >= 300 && status < 500) return "permanent";
  // 5xx (and anything unexpected): the receiver's trouble, worth another attempt.
  return "retry";
}

function toPayload(delivery: Delivery, sentAt: Date): WebhookPayload {
  const { id, playbook, trigger, causationId, customer, subject, text, html, data, purpose, consent, timeZone } = delivery;
  return { id, type: "lifecycle.follow-up", playbook, trigger, causationId, customer, subject, text, ...(html ? { html } : {}), data, purpose, consent, ...(timeZone ? { timeZone } : {}), sentAt: sentAt.toISOString() };
}

/** The first bytes of a response body, for the error message; never waits for more than it needs. */
async function bodySnippet(response: Response, maxBytes = 200): Promise<string> {
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < maxBytes) {
      // undici's body stream is typed `ReadableStream<any>`; its chunks are Uint8Arrays.
      const read: { done: boolean; value?: unknown } = await reader.read();
      if (read.done || !(read.value instanceof Uint8Array)) break;
      chunks.push(read.value);
      size += read.value.byteLength;
    }
  } catch {
    // A body that breaks off or times out only shortens the message.
  } finally {
    // Release the connection without reading the rest of a body nobody needs.
    reader.cancel().catch(() => undefined);
  }
  const text = Buffer.concat(chunks).subarray(0, maxBytes).toString("utf8").replace(/\s+/g, " ").trim();
  return text ? `: ${text}` : "";
}

function describeFetchError(err: unknown, timeoutMs: number): string {
  if (err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError")) return `no response within ${timeoutMs} ms`;
  const cause = err instanceof Error && err.cause instanceof Error ? err.cause : undefined;
  // undici reports "fetch failed" and puts the useful part (ECONNREFUSED, ENOTFOUND …) in `cause`.
  const code = cause && "code" in cause && typeof cause.code === "string" ? cause.code : undefined;
  return code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
}

/**
 * Delivers follow-ups as signed JSON POSTs. A 2xx is success; 5xx, 408, 429, timeouts and
 * network errors throw a plain Error so BullMQ retries with backoff; other 4xx (and 3xx) throw
 * {@link PermanentDeliveryError}. Receivers verify with `verifyWebhookSignature` and dedupe on
 * the `x-lifecycle-id` header. Each attempt is a client span; its `traceparent` header lets the
 * receiver continue the trace.
 */
export function createWebhookChannel({ url, secret, timeoutMs, fetch: doFetch = globalThis.fetch, now = () => new Date() }: WebhookChannelOptions): Channel {
  // The host only: the URL's path or query may carry a token.
  const { hostname } = new URL(url);
  const post = async (delivery: Delivery, span: Span): Promise<{ detail: string }> => {
    const sentAt = now();
    const body = JSON.stringify(toPayload(delivery, sentAt));
    const timestamp = Math.floor(sentAt.getTime() / 1000);
    const traceparent = traceparentOf(span);
    let response: Response;
    try {
      response = await doFetch(url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "user-agent": "customer-lifecycle",
          [ID_HEADER]: delivery.id,
          [SIGNATURE_HEADER]: signWebhookBody({ body, secret, timestamp }),
          ...(traceparent ? { [TRACEPARENT_HEADER]: traceparent } : {}),
        },
        body,
        redirect: "manual",
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      throw new Error(`webhook not delivered: ${describeFetchError(err, timeoutMs)}`, { cause: err });
    }
    span.setAttribute(ATTR.httpStatus, response.status);
    const verdict = classifyWebhookStatus(response.status);
    if (verdict === "ok") {
      await response.body?.cancel().catch(() => undefined);
      return { detail: `webhook answered ${response.status}` };
    }
    const message = `webhook answered ${response.status}${await bodySnippet(response)}`;
    if (verdict === "permanent") throw new PermanentDeliveryError(message);
    throw new Error(message);
  };
  return {
    name: "webhook",
    send: (delivery: Delivery) =>
      withSpan("POST webhook", { kind: SpanKind.CLIENT, parent: delivery.traceparent, attributes: { [ATTR.httpMethod]: "POST", [ATTR.serverAddress]: hostname } }, (span) => post(delivery, span)),
  };
}
