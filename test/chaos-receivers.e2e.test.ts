import { followUpJobId } from "@lifecycle/events";
import { PermanentDeliveryError, type Channel, type Delivery } from "@lifecycle/worker/channels";
import { createEmailChannel } from "@lifecycle/worker/channels/email";
import { createWebhookChannel } from "@lifecycle/worker/channels/webhook";
import { describe, expect, test, waitFor } from "@lifecycle/testkit";
import { startReceivers, type ReceiverChannel, type Receivers } from "../bench/chaos/receivers.js";

// Issue 16: the chaos run's receivers, driven by the worker's real channels. What they record is
// what the run's verdict counts (each job id delivered, how often), so this checks it is exactly
// the accepted deliveries, and that `fail` and `hang` look to the channels as a receiver in
// trouble does: a transient error to retry, and the channel's own per-attempt timeout.
const TIMEOUT_MS = 400;

function delivery(n: number): Delivery {
  // A long customer id: nodemailer folds the id header onto a second line, which must be unfolded.
  const customerId = `chaos-customer-${n}-${"x".repeat(80)}`;
  return {
    id: followUpJobId({ customerId, playbook: "thank-you", trigger: `order-${n}` }),
    playbook: "thank-you",
    trigger: `order-${n}`,
    causationId: `event-${n}`,
    customer: { id: customerId, email: `c${n}@example.com`, name: `Customer ${n}` },
    subject: "Thank you",
    text: "Thanks for your order.\n.\n..a line starting with dots",
    data: {},
    purpose: "transactional",
    consent: "unknown",
  };
}

/** The delivery's outcome: "sent", or the error it failed with. */
async function attempt(channel: Channel, d: Delivery): Promise<"sent" | Error> {
  try {
    await channel.send(d);
    return "sent";
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}

async function walkThroughModes(receivers: Receivers, name: ReceiverChannel, channel: Channel, timeoutPattern: RegExp) {
  const recorded = () => receivers.deliveries()[name];
  const [a, b, c] = [delivery(1), delivery(2), delivery(3)];

  // ok: recorded under the id, a second send of it counted as a duplicate.
  expect(await attempt(channel, a)).toBe("sent");
  expect(await attempt(channel, a)).toBe("sent");
  expect(recorded()).toEqual(new Map([[a.id, 2]]));

  // fail: a transient error (BullMQ retries it), nothing recorded, the refusal counted.
  receivers.setMode(name, "fail");
  expect(receivers.mode(name)).toBe("fail");
  const refused = await attempt(channel, b);
  expect(refused).toBeInstanceOf(Error);
  expect(refused).not.toBeInstanceOf(PermanentDeliveryError);
  expect(String(refused)).toMatch(name === "webhook" ? /webhook answered 503/ : /451 4\.3\.0 try again later/);
  expect(receivers.refused()[name]).toBe(1);
  expect(recorded().has(b.id)).toBe(false);

  // hang: no answer, so the channel's own timeout for the attempt ends it.
  receivers.setMode(name, "hang");
  const t0 = Date.now();
  const hung = await attempt(channel, c);
  expect(Date.now() - t0).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
  expect(hung).toBeInstanceOf(Error);
  expect(hung).not.toBeInstanceOf(PermanentDeliveryError);
  expect(String(hung)).toMatch(timeoutPattern);
  expect(receivers.hung()[name]).toBeGreaterThanOrEqual(1);
  expect(recorded().has(c.id)).toBe(false);

  // Back to ok: the retries of both go through, once each.
  receivers.setMode(name, "ok");
  expect(await attempt(channel, b)).toBe("sent");
  expect(await attempt(channel, c)).toBe("sent");
  expect(recorded()).toEqual(new Map([[a.id, 2], [b.id, 1], [c.id, 1]]));
  expect(receivers.refused()[name]).toBe(1);
}

describe("chaos receivers", { timeout: 30_000 }, () => {
  test("webhook: ok records by x-lifecycle-id (duplicates counted), fail answers 503, hang runs into the channel's timeout", async () => {
    const receivers = await startReceivers();
    try {
      const webhook = createWebhookChannel({ url: receivers.webhookUrl, secret: "a-chaos-secret", timeoutMs: TIMEOUT_MS });
      await walkThroughModes(receivers, "webhook", webhook, new RegExp(`no response within ${TIMEOUT_MS} ms`));
      // Nothing reached the other channel.
      expect(receivers.deliveries().email.size).toBe(0);
    } finally {
      await receivers.close();
    }
  });

  test("e-mail: ok records by the X-Lifecycle-Id header (folded), fail answers 451, hang runs into the channel's timeout", async () => {
    const receivers = await startReceivers();
    const email = createEmailChannel({ smtpUrl: receivers.smtpUrl, from: "Shop <care@shop.example>", timeoutMs: TIMEOUT_MS });
    try {
      // nodemailer drops a pooled connection after an error, so the hung attempt is a new one whose
      // greeting never comes (a hang on an open connection would report a timeout instead).
      await walkThroughModes(receivers, "email", email, /e-mail not sent: .*(greeting never received|timeout|timed out)/i);
      expect(receivers.deliveries().webhook.size).toBe(0);
    } finally {
      await email.close();
      await receivers.close();
    }
  });

  test("close() ends hung requests and sessions at once, so nothing is left waiting", async () => {
    const receivers = await startReceivers();
    // Timeouts far beyond the test's: only close() can end these attempts.
    const webhook = createWebhookChannel({ url: receivers.webhookUrl, secret: "a-chaos-secret", timeoutMs: 60_000 });
    const email = createEmailChannel({ smtpUrl: receivers.smtpUrl, from: "Shop <care@shop.example>", timeoutMs: 60_000 });
    try {
      receivers.setMode("webhook", "hang");
      receivers.setMode("email", "hang");
      const pending = [attempt(webhook, delivery(1)), attempt(email, delivery(2))];
      await waitFor("both attempts to hang", async () => (receivers.hung().webhook >= 1 && receivers.hung().email >= 1 ? true : undefined), { timeoutMs: 5_000, intervalMs: 20 });
      const t0 = Date.now();
      await receivers.close();
      const outcomes = await Promise.all(pending);
      expect(Date.now() - t0).toBeLessThan(2_000);
      for (const o of outcomes) expect(o).toBeInstanceOf(Error);
      expect(receivers.deliveries()).toEqual({ webhook: new Map(), email: new Map() });
    } finally {
      await email.close();
      await receivers.close();
    }
  });
});
