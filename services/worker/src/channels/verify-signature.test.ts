import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { signWebhookBody, verifyWebhookSignature } from "./webhook-signature.js";

const secret = "whsec_0123456789abcdef";
const now = new Date("2026-03-01T12:00:00.000Z");
const t = Math.floor(now.getTime() / 1000);
const body = JSON.stringify({ id: "follow-up:c1:thank-you:first-purchase", type: "lifecycle.follow-up", text: "Thanks, Ada!" });

describe("verifyWebhookSignature", () => {
  it("accepts the signature it was sent, computed independently of the signer", () => {
    const hex = createHmac("sha256", secret).update(`${t}.${body}`).digest("hex");
    const header = `t=${t},v1=${hex}`;
    expect(signWebhookBody({ body, secret, timestamp: t })).toBe(header);
    expect(verifyWebhookSignature({ header, body, secret, now })).toEqual({ ok: true });
    // The raw bytes are what is signed: a Buffer of the same body verifies too.
    expect(verifyWebhookSignature({ header: [header], body: Buffer.from(body), secret, now })).toEqual({ ok: true });
  });

  it("accepts a timestamp within the tolerance either way and refuses one beyond it", () => {
    const at = (offset: number) => signWebhookBody({ body, secret, timestamp: t + offset });
    expect(verifyWebhookSignature({ header: at(-300), body, secret, now })).toEqual({ ok: true });
    expect(verifyWebhookSignature({ header: at(299), body, secret, now })).toEqual({ ok: true });
    expect(verifyWebhookSignature({ header: at(-301), body, secret, now })).toEqual({ ok: false, reason: "stale timestamp" });
    expect(verifyWebhookSignature({ header: at(301), body, secret, now })).toEqual({ ok: false, reason: "stale timestamp" });
    expect(verifyWebhookSignature({ header: at(-3600), body, secret, now, toleranceSeconds: 7200 })).toEqual({ ok: true });
  });

  it("refuses a tampered body, a wrong secret and a timestamp moved without re-signing", () => {
    const header = signWebhookBody({ body, secret, timestamp: t });
    const mismatch = { ok: false, reason: "signature mismatch" };
    expect(verifyWebhookSignature({ header, body: body.replace("Ada", "Eve"), secret, now })).toEqual(mismatch);
    expect(verifyWebhookSignature({ header, body: `${body} `, secret, now })).toEqual(mismatch);
    expect(verifyWebhookSignature({ header, body, secret: `${secret}x`, now })).toEqual(mismatch);
    const moved = header.replace(`t=${t}`, `t=${t + 1}`);
    expect(verifyWebhookSignature({ header: moved, body, secret, now })).toEqual(mismatch);
  });

  it("accepts any one of several v1 signatures (secret rotation) and ignores unknown schemes", () => {
    const good = signWebhookBody({ body, secret, timestamp: t }).split("v1=")[1] ?? "";
    const old = signWebhookBody({ body, secret: "the-previous-secret", timestamp: t }).split("v1=")[1] ?? "";
    expect(verifyWebhookSignature({ header: `t=${t},v1=${old},v1=${good},v0=zz`, body, secret, now })).toEqual({ ok: true });
    expect(verifyWebhookSignature({ header: `t=${t}, v1=${good.toUpperCase()}`, body, secret, now })).toEqual({ ok: true });
  });

  it.each([
    ["no header", undefined, "missing header"],
    ["an empty header", "", "missing header"],
    ["no v1", `t=${t}`, "malformed header"],
    ["no timestamp", "v1=" + "a".repeat(64), "malformed header"],
    ["a non-numeric timestamp", `t=soon,v1=${"a".repeat(64)}`, "malformed header"],
    ["two timestamps", `t=${t},t=${t},v1=${"a".repeat(64)}`, "malformed header"],
    ["a short signature", `t=${t},v1=abcd`, "malformed header"],
    ["a non-hex signature", `t=${t},v1=${"g".repeat(64)}`, "malformed header"],
    ["a part without '='", `t=${t},v1`, "malformed header"],
    ["garbage", "Bearer abc", "malformed header"],
    ["two header lines", [`t=${t},v1=${"a".repeat(64)}`, `t=${t},v1=${"b".repeat(64)}`], "malformed header"],
  ])("refuses %s", (_name, header, reason) => {
    expect(verifyWebhookSignature({ header, body, secret, now })).toEqual({ ok: false, reason });
  });
});
