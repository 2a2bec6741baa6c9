import { createHmac, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import { ConsentChannel } from "@lifecycle/events";

/**
 * The signed part of a one-click unsubscribe URL (RFC 8058): who, which channel, until when.
 * HMAC-SHA256 with UNSUBSCRIBE_SECRET, so the API can honour it without an API key and nobody
 * can forge one for another customer; it expires so an old mail does not stay a live switch.
 */
const Claims = z.object({ c: z.string().min(1).max(128), ch: ConsentChannel, exp: z.number().int().positive() });
export type UnsubscribeClaims = { customerId: string; channel: z.infer<typeof ConsentChannel>; expiresAt: Date };

const b64 = (data: Buffer | string) => Buffer.from(data).toString("base64url");
const mac = (payload: string, secret: string) => createHmac("sha256", secret).update(`unsubscribe.v1.${payload}`).digest();

export function signUnsubscribeToken({ customerId, channel, expiresAt }: UnsubscribeClaims, secret: string): string {
  const payload = b64(JSON.stringify({ c: customerId, ch: channel, exp: Math.floor(expiresAt.getTime() / 1000) }));
  return `${payload}.${b64(mac(payload, secret))}`;
}

export type VerifiedToken = { ok: true; claims: UnsubscribeClaims } | { ok: false; why: string };

/** The token's claims when its signature holds and it has not expired at `now`. */
export function verifyUnsubscribeToken(token: string, secret: string, now: Date): VerifiedToken {
  const [payload, signature, extra] = token.split(".");
  if (!payload || !signature || extra !== undefined) return { ok: false, why: "malformed token" };
  const expected = mac(payload, secret);
  const given = Buffer.from(signature, "base64url");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, why: "invalid signature" };
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
  } catch {
    return { ok: false, why: "malformed token" };
  }
  const claims = Claims.safeParse(json);
  if (!claims.success) return { ok: false, why: "malformed token" };
  const expiresAt = new Date(claims.data.exp * 1000);
  if (expiresAt.getTime() < now.getTime()) return { ok: false, why: `expired on ${expiresAt.toISOString()}` };
  return { ok: true, claims: { customerId: claims.data.c, channel: claims.data.ch, expiresAt } };
}

/** The URL a marketing message carries: `<base>/v1/unsubscribe?token=…` (a path prefix in the base is kept). */
export function unsubscribeUrl(baseUrl: string, claims: UnsubscribeClaims, secret: string): string {
  const url = new URL("v1/unsubscribe", baseUrl.endsWith("/") ? baseUrl : `${baseUrl}/`);
  url.searchParams.set("token", signUnsubscribeToken(claims, secret));
  return url.toString();
}
