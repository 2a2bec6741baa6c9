import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";
import { afterAll, beforeAll, beforeEach } from "vitest";
import { test, expect, describe, uniqueName } from "@lifecycle/testkit";
import { PermanentDeliveryError, type Delivery } from "./channel.js";
import { createEmailChannel, messageIdFor, type EmailChannel } from "./email.channel.js";
import { RecipientRefusedError } from "./hard-bounce.js";
import { loadFollowUpTemplates } from "@lifecycle/templates";
import { sendError } from "./channel.test-support.js";

interface ReceivedMail {
  user: string | undefined;
  mailFrom: string | undefined;
  rcptTo: string[];
  headers: Map<string, string>;
  body: string;
}

/** Enough of RFC 5322 for these tests: unfolded headers by lower-case name, and the body. */
function parseMessage(raw: string): { headers: Map<string, string>; body: string } {
  const split = raw.indexOf("\r\n\r\n");
  if (split < 0) throw new Error(`no header/body separator in ${JSON.stringify(raw.slice(0, 200))}`);
  const headers = new Map<string, string>();
  for (const line of raw.slice(0, split).replace(/\r\n[ \t]+/g, " ").split("\r\n")) {
    const colon = line.indexOf(":");
    headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return { headers, body: raw.slice(split + 4) };
}

/** The parts of a multipart body (boundary from its Content-Type), quoted-printable decoded. */
function mimeParts(mail: { headers: Map<string, string>; body: string }): { contentType: string; body: string }[] {
  const boundary = /boundary="?([^";]+)"?/.exec(mail.headers.get("content-type") ?? "")?.[1];
  if (!boundary) throw new Error(`not multipart: ${mail.headers.get("content-type") ?? "no content-type"}`);
  return mail.body
    .split(`--${boundary}`)
    .slice(1, -1)
    .map((raw) => {
      const part = parseMessage(raw.replace(/^\r\n/, ""));
      const qp = part.headers.get("content-transfer-encoding") === "quoted-printable";
      const bytes = qp ? Buffer.from(part.body.replace(/=\r\n/g, "").replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))), "latin1") : Buffer.from(part.body);
      return { contentType: part.headers.get("content-type") ?? "", body: bytes.toString("utf8").replace(/\r\n/g, "\n").trimEnd() };
    });
}

/**
 * A real SMTP server on loopback, without TLS. Recipients starting with `nobody@` are refused
 * with 550 (naming the address, as real servers do) and `busy@` with 451.
 */
async function startSmtpServer() {
  const received: ReceivedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    allowInsecureAuth: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    // Pooled client connections stay open; don't wait the default 30 s for them on close.
    closeTimeout: 100,
    onAuth(auth, _session, callback) {
      if (auth.username === "mailer" && auth.password === "s3cret-pass") callback(null, { user: auth.username });
      else callback(Object.assign(new Error("bad credentials"), { responseCode: 535 }));
    },
    onRcptTo(address, _session, callback) {
      if (address.address.startsWith("nobody@")) callback(Object.assign(new Error(`<${address.address}>: mailbox unavailable`), { responseCode: 550 }));
      else if (address.address.startsWith("busy@")) callback(Object.assign(new Error("try again later"), { responseCode: 451 }));
      else callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        const { mailFrom, rcptTo } = session.envelope;
        received.push({
          user: typeof session.user === "string" ? session.user : undefined,
          mailFrom: mailFrom ? mailFrom.address : undefined,
          rcptTo: rcptTo.map((r) => r.address),
          ...parseMessage(Buffer.concat(chunks).toString("utf8")),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address: string | AddressInfo | null = server.server.address();
  if (address === null || typeof address === "string") throw new Error("SMTP server is not listening on TCP");
  return {
    port: address.port,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function delivery(overrides: Partial<Delivery> = {}): Delivery {
  return {
    id: uniqueName("fu|thank-you|c-1|first-purchase"),
    playbook: "thank-you",
    trigger: "first-purchase",
    causationId: "evt-1",
    customer: { id: "c-1", email: "ada@example.com", name: "Ada Lovelace" },
    subject: "Thank you for your first order",
    text: "Hello Ada,\nthanks for your first order.\n",
    data: {},
    purpose: "transactional",
    consent: "unknown",
    ...overrides,
  };
}

describe("e-mail channel", () => {
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  let channel: EmailChannel;
  const from = "Customer Lifecycle <noreply@lifecycle.test>";
  beforeAll(async () => {
    smtp = await startSmtpServer();
    // Credentials in the URL, as SMTP_URL carries them.
    channel = createEmailChannel({ smtpUrl: `smtp://mailer:s3cret-pass@127.0.0.1:${smtp.port}`, from, timeoutMs: 5_000 });
  });
  beforeEach(() => {
    smtp.received.length = 0;
  });
  afterAll(async () => {
    await channel.close();
    await smtp.close();
  });

  test("delivers a plain-text e-mail with the delivery id in Message-ID and X-Lifecycle-Id", async () => {
    const d = delivery();
    const { detail } = await channel.send(d);
    expect(detail).toMatch(/^e-mail accepted: 250 /);

    expect(smtp.received).toHaveLength(1);
    const [mail] = smtp.received;
    if (!mail) throw new Error("nothing received");
    expect(mail.user).toBe("mailer");
    expect(mail.mailFrom).toBe("noreply@lifecycle.test");
    expect(mail.rcptTo).toEqual(["ada@example.com"]);
    expect(mail.headers.get("from")).toBe(from);
    expect(mail.headers.get("to")).toBe("Ada Lovelace <ada@example.com>");
    expect(mail.headers.get("subject")).toBe("Thank you for your first order");
    expect(mail.headers.get("x-lifecycle-id")).toBe(d.id);
    expect(mail.headers.get("message-id")).toBe(messageIdFor(d.id, "lifecycle.test"));
    expect(mail.headers.get("message-id")).toMatch(/^<lifecycle\.fu\|thank-you\|c-1\|first-purchase-[0-9a-f]{8}@lifecycle\.test>$/);
    expect(mail.headers.get("content-type")).toMatch(/^text\/plain/);
    expect(mail.body.trimEnd()).toBe("Hello Ada,\r\nthanks for your first order.");
  });

  test("a retried send carries the same Message-ID; a customer without a name gets a bare address", async () => {
    const d = delivery({ customer: { id: "c-2", email: "grace@example.com" } });
    await channel.send(d);
    await channel.send(d);
    expect(smtp.received).toHaveLength(2);
    const ids = smtp.received.map((m) => m.headers.get("message-id"));
    expect(ids[0]).toBeDefined();
    expect(ids[1]).toBe(ids[0]);
    expect(smtp.received[0]?.headers.get("to")).toBe("grace@example.com");
  });

  test("a customer without an e-mail address is a permanent failure, and nothing is sent", async () => {
    const err = await sendError(channel.send(delivery({ customer: { id: "c-3", name: "No Mail" } })));
    expect(err).toBeInstanceOf(PermanentDeliveryError);
    expect(err).toHaveProperty("message", "no e-mail address");
    expect(smtp.received).toHaveLength(0);
  });

  test("a 550 on RCPT is permanent, and the refused address stays out of the message", async () => {
    const err = await sendError(channel.send(delivery({ customer: { id: "c-4", email: "nobody@example.com" } })));
    expect(err).toBeInstanceOf(PermanentDeliveryError);
    // The address itself was refused: a hard bounce (the worker suppresses e-mail for the customer).
    expect(err).toBeInstanceOf(RecipientRefusedError);
    expect(err).toHaveProperty("message", expect.stringContaining("550"));
    expect(err).toHaveProperty("message", expect.not.stringContaining("nobody@example.com"));
    expect(smtp.received).toHaveLength(0);
    // The pooled connection is still good for the next message.
    await channel.send(delivery());
    expect(smtp.received).toHaveLength(1);
  });

  test("a 451 on RCPT is retryable", async () => {
    const err = await sendError(channel.send(delivery({ customer: { id: "c-5", email: "busy@example.com" } })));
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(PermanentDeliveryError);
    expect(err).toHaveProperty("message", expect.stringContaining("451"));
  });

  test("wrong SMTP credentials are retryable, not a verdict on the message", async () => {
    const wrong = createEmailChannel({ smtpUrl: `smtp://mailer:wrong@127.0.0.1:${smtp.port}`, from, timeoutMs: 5_000 });
    try {
      const err = await sendError(wrong.send(delivery()));
      expect(err).not.toBeInstanceOf(PermanentDeliveryError);
      expect(err).toHaveProperty("message", expect.stringContaining("535"));
    } finally {
      await wrong.close();
    }
  });

  test("with an HTML body: multipart/alternative, the plain text first and the HTML as rendered from the templates", async () => {
    const templates = await loadFollowUpTemplates();
    const rendered = await templates.render("win-back-at-risk", "de-AT", { customer: { id: "c-5", name: "Jörg <Jo> & Co" }, playbook: "win-back-at-risk", trigger: "at-risk-1", context: {} });
    if (!rendered.ok) throw new Error(rendered.error.reason);
    const { subject, text, html } = rendered.value;
    await channel.send(delivery({ customer: { id: "c-5", email: "joerg@example.com", name: "Jörg" }, subject, text, html }));

    const [mail] = smtp.received;
    if (!mail) throw new Error("nothing received");
    expect(mail.headers.get("content-type")).toMatch(/^multipart\/alternative; boundary=/);
    expect(mail.headers.get("subject")).toMatch(/^=\?UTF-8\?|^Wir vermissen Sie$/);
    const parts = mimeParts(mail);
    expect(parts.map((p) => p.contentType)).toEqual([expect.stringMatching(/^text\/plain; charset=utf-8/), expect.stringMatching(/^text\/html; charset=utf-8/)]);
    expect(parts[0]?.body).toBe("Hallo Jörg <Jo> & Co,\n\nes ist eine Weile her, seit wir Sie zuletzt gesehen haben. Mit diesem Angebot heißen wir Sie gern wieder willkommen.");
    expect(parts[1]?.body).toContain(`<html lang="de">`);
    expect(parts[1]?.body).toContain("<p>Hallo Jörg &lt;Jo&gt; &amp; Co,</p>");
    expect(parts[1]?.body).not.toContain("Unsubscribe");
  });

  test("marketing mail shows its unsubscribe link in both parts: the template's, or a footer when a template left it out", async () => {
    const unsubscribeUrl = "https://lifecycle.shop.example/v1/unsubscribe?token=abc.def";
    const templates = await loadFollowUpTemplates();
    const rendered = await templates.render("win-back-churned", "en", { customer: { id: "c-6", name: "Ada" }, playbook: "win-back-churned", trigger: "churned-1", context: {}, unsubscribeUrl });
    if (!rendered.ok) throw new Error(rendered.error.reason);
    await channel.send(delivery({ ...rendered.value, purpose: "marketing", unsubscribeUrl }));
    // A team's own template without the link.
    await channel.send(delivery({ text: "Hello Ada, come back.", html: "<html><body><p>Hello Ada, come back.</p></body></html>", purpose: "marketing", unsubscribeUrl }));

    const [fromTemplate, withFooter] = smtp.received.map(mimeParts);
    expect(fromTemplate?.[0]?.body.match(/unsubscribe\?token=abc\.def/g)).toHaveLength(1);
    expect(fromTemplate?.[1]?.body.match(/unsubscribe\?token=abc\.def/g)).toHaveLength(1);
    expect(fromTemplate?.[1]?.body).toContain(`<a href="${unsubscribeUrl}">Unsubscribe</a>`);
    expect(withFooter?.[0]?.body).toBe(`Hello Ada, come back.\n\n--\nUnsubscribe from these messages: ${unsubscribeUrl}`);
    expect(withFooter?.[1]?.body).toBe(`<html><body><p>Hello Ada, come back.</p><p><a href="${unsubscribeUrl}">Unsubscribe</a> from these messages.</p></body></html>`);
    for (const mail of smtp.received) expect(mail.headers.get("list-unsubscribe")).toBe(`<${unsubscribeUrl}>`);
  });

  test("a stopped server (connection refused) is retryable", async () => {
    const stopped = await startSmtpServer();
    const port = stopped.port;
    await stopped.close();
    const unreachable = createEmailChannel({ smtpUrl: `smtp://127.0.0.1:${port}`, from, timeoutMs: 5_000 });
    try {
      const err = await sendError(unreachable.send(delivery()));
      expect(err).toBeInstanceOf(Error);
      expect(err).not.toBeInstanceOf(PermanentDeliveryError);
      expect(err).toHaveProperty("message", expect.stringContaining("ECONNREFUSED"));
    } finally {
      await unreachable.close();
    }
  });
});
