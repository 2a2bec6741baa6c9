import { describe, expect, it } from "vitest";
import { signUnsubscribeToken, unsubscribeUrl, verifyUnsubscribeToken } from "@lifecycle/engine";

const SECRET = "a-secret-of-enough-length-0123456789";
const now = new Date("2026-07-01T12:00:00Z");
const claims = { customerId: "c-42", channel: "email" as const, expiresAt: new Date("2026-08-30T12:00:00Z") };

describe("one-click unsubscribe tokens", () => {
  it("round-trips who and which channel until it expires", () => {
    const token = signUnsubscribeToken(claims, SECRET);
    expect(verifyUnsubscribeToken(token, SECRET, now)).toEqual({ ok: true, claims });
    expect(verifyUnsubscribeToken(token, SECRET, new Date("2026-08-31T00:00:00Z"))).toEqual({ ok: false, why: "expired on 2026-08-30T12:00:00.000Z" });
  });

  it("refuses a token signed with another secret, or edited to name another customer", () => {
    const token = signUnsubscribeToken(claims, SECRET);
    expect(verifyUnsubscribeToken(token, "another-secret-of-enough-length-012", now)).toEqual({ ok: false, why: "invalid signature" });
    const [, signature] = token.split(".");
    const forged = `${Buffer.from(JSON.stringify({ c: "c-43", ch: "email", exp: 1_900_000_000 })).toString("base64url")}.${signature}`;
    expect(verifyUnsubscribeToken(forged, SECRET, now)).toEqual({ ok: false, why: "invalid signature" });
    expect(verifyUnsubscribeToken("garbage", SECRET, now)).toEqual({ ok: false, why: "malformed token" });
  });

  it("builds the URL the message carries", () => {
    const url = new URL(unsubscribeUrl("https://lifecycle.example.com/base/", claims, SECRET));
    expect(url.origin + url.pathname).toBe("https://lifecycle.example.com/base/v1/unsubscribe");
    expect(new URL(unsubscribeUrl("https://lifecycle.example.com", claims, SECRET)).pathname).toBe("/v1/unsubscribe");
    expect(verifyUnsubscribeToken(url.searchParams.get("token") ?? "", SECRET, now)).toMatchObject({ ok: true });
  });
});
