import { createTransport } from "nodemailer";
import { ATTR, SpanKind, withSpan } from "@lifecycle/telemetry";
import { PermanentDeliveryError, type Channel, type Delivery } from "./channel.js";
import { RecipientRefusedError } from "./hard-bounce.js";

/** The header that carries the delivery id, the same on every retry. */
export const ID_HEADER = "X-Lifecycle-Id";

export interface EmailChannelOptions {
  /** `smtp://[user:pass@]host[:port]` (STARTTLS when the server offers it) or `smtps://…` (TLS from the start). */
  smtpUrl: string;
  /** The From header, e.g. `Customer Lifecycle <noreply@example.com>`; its domain also ends each Message-ID. */
  from: string;
  /** Limit for connecting, for the greeting and for each wait on the server. @defaultValue 30000 */
  timeoutMs?: number;
}

export type EmailChannel = Channel & {
  /** Closes the pooled SMTP connections. */
  close(): Promise<void>;
};

/**
 * A Message-ID that only depends on the delivery id, so that a retried send (say, after the
 * server took the message but the connection broke before its reply) carries the same one and
 * mail systems can tell it is the same message. Characters outside a small safe set are
 * %-escaped to keep it a valid dot-atom.
 */
export function messageIdFor(deliveryId: string, domain: string): string {
  const local = Array.from(Buffer.from(deliveryId, "utf8"))
    .map((byte) => {
      const c = String.fromCharCode(byte);
      return /[A-Za-z0-9_|~+=-]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
    })
    .join("");
  return `<lifecycle.${local}@${domain}>`;
}

/** The domain of the From address, for Message-IDs. */
export function senderDomain(from: string): string {
  return /@([A-Za-z0-9.-]+)>?\s*$/.exec(from)?.[1] ?? "localhost";
}

function property(err: unknown, key: "responseCode" | "code" | "command" | "response"): unknown {
  return typeof err === "object" && err !== null && key in err ? Reflect.get(err, key) : undefined;
}

/** `text` with every occurrence of the address, in any letter case, replaced. */
const withoutAddress = (text: string, recipient: string) => text.replace(new RegExp(recipient.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"), "gi"), "<recipient>");

/**
 * The SMTP error as a cause fit to log: nodemailer's error quotes the address in its message, its
 * `response` and its `rejected` list, and the logger serializes a cause in full, so only its
 * name, codes and the scrubbed texts are kept.
 */
function scrubbedCause(err: unknown, recipient: string): Error {
  const text = (v: unknown) => (typeof v === "string" ? withoutAddress(v, recipient) : undefined);
  const cause = new Error(text(err instanceof Error ? err.message : String(err)));
  cause.name = err instanceof Error ? err.name : "Error";
  const fields = { code: property(err, "code"), responseCode: property(err, "responseCode"), command: text(property(err, "command")), response: text(property(err, "response")) };
  return Object.assign(cause, Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)));
}

/**
 * A 5xx reply is the server's final word on this message (unknown mailbox, refused content), so
 * the job fails at once; a 4xx reply, a broken connection or a timeout is retried. A failed
 * login is the exception among 5xx: it is our configuration, not this message, and a retry can
 * succeed once the credentials are fixed.
 */
export function classifySmtpError(err: unknown, recipient: string): Error {
  const responseCode = property(err, "responseCode");
  const code = property(err, "code");
  // Servers often quote the refused address; keep it out of logs and stored outcomes.
  const reason = withoutAddress(err instanceof Error ? err.message : String(err), recipient);
  const permanent =
    code !== "EAUTH" &&
    ((typeof responseCode === "number" && responseCode >= 500 && responseCode < 600) ||
      // nodemailer's own refusal of an address it cannot use, before asking the server.
      (code === "EENVELOPE" && responseCode === undefined));
  // The server refused the address itself (5xx to RCPT TO): a hard bounce, which suppresses e-mail for the customer (hard-bounce.ts).
  const hardBounce = code === "EENVELOPE" && typeof responseCode === "number" && responseCode >= 500 && responseCode < 600;
  const error = hardBounce ? new RecipientRefusedError(`e-mail refused: ${reason}`) : permanent ? new PermanentDeliveryError(`e-mail refused: ${reason}`) : new Error(`e-mail not sent: ${reason}`);
  error.cause = scrubbedCause(err, recipient);
  return error;
}

const escapeHtml = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&#34;");

/**
 * The bodies of a marketing e-mail must show its unsubscribe link. The templates put it there;
 * a team's own template that leaves it out gets a footer with it rather than a mail without one.
 */
export function withUnsubscribeLink({ text, html, unsubscribeUrl: url }: Pick<Delivery, "text" | "html" | "unsubscribeUrl">): { text: string; html?: string } {
  if (!url) return { text, ...(html ? { html } : {}) };
  const footer = `<p><a href="${escapeHtml(url)}">Unsubscribe</a> from these messages.</p>`;
  return {
    text: text.includes(url) ? text : `${text}\n\n--\nUnsubscribe from these messages: ${url}\n`,
    ...(html ? { html: html.includes(escapeHtml(url)) || html.includes(url) ? html : html.includes("</body>") ? html.replace("</body>", `${footer}</body>`) : `${html}${footer}` } : {}),
  };
}

/**
 * Delivers follow-ups as e-mail over SMTP, plain text and, when rendered, HTML beside it
 * (multipart/alternative), through a small connection pool. The customer without an address, and
 * 5xx replies, fail the job at once ({@link PermanentDeliveryError});
 * everything else throws a plain Error for BullMQ to retry.
 */
export function createEmailChannel({ smtpUrl, from, timeoutMs = 30_000 }: EmailChannelOptions): EmailChannel {
  const transport = createTransport({
    url: smtpUrl,
    pool: true,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  });
  const domain = senderDomain(from);
  const server = new URL(smtpUrl).hostname;
  const sendMail = async (delivery: Delivery): Promise<{ detail: string }> => {
    const address = delivery.customer.email;
    if (!address) throw new PermanentDeliveryError("no e-mail address");
    try {
      const info = await transport.sendMail({
        from,
        to: delivery.customer.name ? { name: delivery.customer.name, address } : address,
        subject: delivery.subject,
        // Marketing mail: the link in the body, and RFC 8058 one-click unsubscribe in the headers
        // (Gmail's and Yahoo's bulk-sender rules require both headers).
        ...withUnsubscribeLink(delivery),
        messageId: messageIdFor(delivery.id, domain),
        headers: {
          [ID_HEADER]: delivery.id,
          ...(delivery.unsubscribeUrl ? { "List-Unsubscribe": `<${delivery.unsubscribeUrl}>`, "List-Unsubscribe-Post": "List-Unsubscribe=One-Click" } : {}),
        },
      });
      return { detail: `e-mail accepted: ${info.response.slice(0, 200)}` };
    } catch (err) {
      throw classifySmtpError(err, address);
    }
  };
  return {
    name: "email",
    // A client span per attempt, in the job's trace. No trace header in the mail: it goes to a customer.
    send: (delivery: Delivery) =>
      withSpan("smtp send", { kind: SpanKind.CLIENT, parent: delivery.traceparent, attributes: { [ATTR.serverAddress]: server } }, () => sendMail(delivery)),
    async close() {
      transport.close();
    },
  };
}
