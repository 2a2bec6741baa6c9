import { createHmac, timingSafeEqual } from "node:crypto";

// Stripe's scheme: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`. Signing the
// timestamp with the body lets a receiver refuse a captured request replayed later.

/** The header that carries the signature. */
export const SIGNATURE_HEADER = "x-lifecycle-signature";

const HEX_SHA256 = /^[0-9a-fA-F]{64}$/;
const UNIX_SECONDS = /^\d{1,12}$/;

function hmacHex(secret: string, timestamp: number, body: string | Uint8Array): string {
  return createHmac("sha256", secret).update(`${timestamp}.`).update(body).digest("hex");
}

/** The `x-lifecycle-signature` value for `body` sent at `timestamp` (unix seconds). */
export function signWebhookBody({ body, secret, timestamp }: { body: string | Uint8Array; secret: string; timestamp: number }): string {
  return `t=${timestamp},v1=${hmacHex(secret, timestamp, body)}`;
}

export type SignatureCheck = { ok: true } | { ok: false; reason: "missing header" | "malformed header" | "stale timestamp" | "signature mismatch" };

export interface VerifyWebhookSignatureOptions {
  /** The `x-lifecycle-signature` header as received (Node's `req.headers[...]` fits as it is). */
  header: string | readonly string[] | undefined | null;
  /** The raw request body, byte for byte as received: not re-serialised JSON. */
  body: string | Uint8Array;
  secret: string;
  /** Largest accepted distance between the signed timestamp and `now`, either way. @defaultValue 300 */
  toleranceSeconds?: number;
  /** The receiver's clock. */
  now: Date;
}

function parseHeader(header: string): { timestamp: number; signatures: string[] } | undefined {
  let timestamp: number | undefined;
  const signatures: string[] = [];
  for (const part of header.split(",")) {
    const eq = part.indexOf("=");
    if (eq <= 0) return undefined;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === "t") {
      if (timestamp !== undefined || !UNIX_SECONDS.test(value)) return undefined;
      timestamp = Number(value);
    } else if (key === "v1") {
      if (!HEX_SHA256.test(value)) return undefined;
      signatures.push(value);
    }
    // Other keys (a future v2) are ignored, as Stripe's receivers do.
  }
  if (timestamp === undefined || signatures.length === 0) return undefined;
  return { timestamp, signatures };
}

/**
 * Checks a webhook's signature the way a receiver should: the timestamp within
 * `toleranceSeconds` of `now`, and one `v1` equal to the HMAC of `"<t>.<body>"`, compared in
 * constant time. Several `v1` entries are allowed so that a secret can be rotated.
 */
export function verifyWebhookSignature({ header, body, secret, toleranceSeconds = 300, now }: VerifyWebhookSignatureOptions): SignatureCheck {
  if (header === undefined || header === null || header.length === 0) return { ok: false, reason: "missing header" };
  // A repeated header arrives as an array; more than one signature header is not ours.
  const raw = typeof header === "string" ? header : header.length === 1 ? header[0] : undefined;
  const parsed = raw === undefined ? undefined : parseHeader(raw);
  if (!parsed) return { ok: false, reason: "malformed header" };
  if (Math.abs(Math.floor(now.getTime() / 1000) - parsed.timestamp) > toleranceSeconds) return { ok: false, reason: "stale timestamp" };
  const expected = Buffer.from(hmacHex(secret, parsed.timestamp, body), "hex");
  // Compare against every candidate rather than stopping at the first match: the time taken
  // then depends only on how many signatures were sent, never on how close one came.
  let match = false;
  for (const candidate of parsed.signatures) {
    if (timingSafeEqual(expected, Buffer.from(candidate, "hex"))) match = true;
  }
  return match ? { ok: true } : { ok: false, reason: "signature mismatch" };
}
