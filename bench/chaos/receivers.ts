// The chaos run's peers for the worker's delivery channels, on loopback: a webhook receiver and an
// SMTP server that record each delivery under its follow-up job id (so a duplicate shows up as a
// count of 2) and that can be told, while the run goes on, to refuse (transiently) or to hang.
// Unlike bench/sinks.ts they keep what they were given: the run's verdict is built from it.
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from "node:net";

/** `ok` accepts; `fail` refuses with a transient error (503, SMTP 451); `hang` never answers. */
export type ReceiverMode = "ok" | "fail" | "hang";
export type ReceiverChannel = "webhook" | "email";

export interface Receivers {
  webhookUrl: string;
  smtpUrl: string;
  /** Applies to what arrives from now on; leaving `hang` destroys the requests and sessions it holds. */
  setMode(channel: ReceiverChannel, mode: ReceiverMode): void;
  mode(channel: ReceiverChannel): ReceiverMode;
  /** Deliveries accepted (2xx, 250 after DATA), by job id: a copy, taken now. */
  deliveries(): { webhook: Map<string, number>; email: Map<string, number> };
  /** Deliveries answered with a transient refusal (`fail` mode). */
  refused(): { webhook: number; email: number };
  /** Requests and SMTP sessions left unanswered (`hang` mode). */
  hung(): { webhook: number; email: number };
  /** Destroys every connection, hung ones included, and stops listening. */
  close(): Promise<void>;
}

/** Recorded for a delivery that carried no id: a bug in the sender, which the report must show. */
export const MISSING_ID = "<no id>";

const WEBHOOK_ID_HEADER = "x-lifecycle-id";
const EMAIL_ID_HEADER = "x-lifecycle-id";

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve, reject) => server.once("error", reject).listen(0, "127.0.0.1", () => resolve()));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("receiver: no TCP address");
  return (address satisfies AddressInfo).port;
}

/**
 * The value of one header in a message's header section (the lines before the first empty line),
 * name matched case-insensitively. Folded lines (CRLF then a space or tab) are unfolded as RFC 5322
 * says, by dropping the CRLF: nodemailer folds a long id onto the next line after the colon.
 */
export function headerValue(headerLines: readonly string[], name: string): string | undefined {
  const unfolded = headerLines.join("\r\n").replace(/\r\n(?=[ \t])/g, "").split("\r\n");
  const wanted = name.toLowerCase();
  for (const line of unfolded) {
    const colon = line.indexOf(":");
    if (colon > 0 && line.slice(0, colon).trim().toLowerCase() === wanted) return line.slice(colon + 1).trim();
  }
  return undefined;
}

interface Counters {
  accepted: Map<string, number>;
  refused: number;
  hung: number;
}

const newCounters = (): Counters => ({ accepted: new Map(), refused: 0, hung: 0 });
const accept = (c: Counters, id: string) => c.accepted.set(id, (c.accepted.get(id) ?? 0) + 1);

/**
 * One SMTP session for nodemailer's dialogue (no STARTTLS or PIPELINING offered, so none is
 * attempted). The mode is read at each point where the server would answer: in `hang` the session
 * stops answering for good (it is destroyed when the mode changes back, or at close); `fail`
 * refuses at the end of DATA, after the sender has sent the whole message.
 */
function smtpSession(socket: Socket, mode: () => ReceiverMode, counters: Counters, hungSockets: Set<Socket>) {
  let buffer = "";
  let inData = false;
  let inHeaders = false;
  let headerLines: string[] = [];
  let hung = false;
  const reply = (line: string) => socket.write(`${line}\r\n`);
  /** True when this answer is withheld; the session then ignores everything it is sent. */
  const hangHere = () => {
    if (mode() !== "hang") return false;
    hung = true;
    counters.hung++;
    hungSockets.add(socket);
    return true;
  };
  socket.on("error", () => socket.destroy());
  if (!hangHere()) reply("220 chaos-receiver ESMTP");
  socket.on("data", (chunk) => {
    if (hung) return;
    // latin1 keeps bytes as they are; the id (percent-encoded ASCII) is decoded as UTF-8 below.
    buffer += chunk.toString("latin1");
    for (let i = buffer.indexOf("\r\n"); i >= 0 && !hung; i = buffer.indexOf("\r\n")) {
      const line = buffer.slice(0, i);
      buffer = buffer.slice(i + 2);
      if (inData) {
        if (line === ".") {
          inData = false;
          if (hangHere()) return;
          if (mode() === "fail") {
            counters.refused++;
            reply("451 4.3.0 try again later");
          } else {
            const id = headerValue(headerLines, EMAIL_ID_HEADER);
            accept(counters, id === undefined ? MISSING_ID : Buffer.from(id, "latin1").toString("utf8"));
            reply("250 2.0.0 accepted");
          }
        } else if (inHeaders) {
          if (line === "") inHeaders = false;
          // Dot-stuffing: a line that starts with "." was sent with another in front.
          else headerLines.push(line.startsWith(".") ? line.slice(1) : line);
        }
        continue;
      }
      if (hangHere()) return;
      const verb = line.slice(0, 4).toUpperCase();
      if (verb === "EHLO") reply("250-chaos-receiver\r\n250 8BITMIME");
      else if (verb === "DATA") {
        inData = true;
        inHeaders = true;
        headerLines = [];
        reply("354 end with <CRLF>.<CRLF>");
      } else if (verb === "QUIT") {
        reply("221 bye");
        socket.end();
      } else reply("250 OK");
    }
  });
}

export async function startReceivers(): Promise<Receivers> {
  const modes: Record<ReceiverChannel, ReceiverMode> = { webhook: "ok", email: "ok" };
  const webhook = newCounters();
  const email = newCounters();
  const hungRequests = new Set<Socket>();
  const hungSessions = new Set<Socket>();

  const http = createHttpServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    // Decided when the whole request is in, the moment a receiver would answer.
    req.on("end", () => {
      const mode = modes.webhook;
      if (mode === "hang") {
        webhook.hung++;
        hungRequests.add(req.socket);
        req.socket.once("close", () => hungRequests.delete(req.socket));
        return;
      }
      if (mode === "fail") {
        webhook.refused++;
        res.writeHead(503, { "content-type": "text/plain", "retry-after": "1" }).end("chaos: unavailable");
        return;
      }
      const id = req.headers[WEBHOOK_ID_HEADER];
      accept(webhook, typeof id === "string" ? id : MISSING_ID);
      res.writeHead(204).end();
    });
  });
  // Node's default would end an idle keep-alive connection the sender still counts on after 5 s;
  // the request timeout (300 s) applies to receiving the request only, so it never ends a hung one.
  http.keepAliveTimeout = 60_000;

  const sockets = new Set<Socket>();
  const smtp = createTcpServer((socket) => {
    sockets.add(socket);
    socket.once("close", () => {
      sockets.delete(socket);
      hungSessions.delete(socket);
    });
    smtpSession(socket, () => modes.email, email, hungSessions);
  });

  const [httpPort, smtpPort] = await Promise.all([listen(http), listen(smtp)]);
  const close = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()));
  const copy = (m: Map<string, number>) => new Map(m);
  return {
    webhookUrl: `http://127.0.0.1:${httpPort}/follow-ups`,
    smtpUrl: `smtp://127.0.0.1:${smtpPort}`,
    setMode(channel, mode) {
      const was = modes[channel];
      modes[channel] = mode;
      if (was !== "hang" || mode === "hang") return;
      // The sender has given up on them or will (its own timeout): a reset is what it would see
      // from a receiver that came back after a restart.
      const held = channel === "webhook" ? hungRequests : hungSessions;
      for (const s of held) s.destroy();
      held.clear();
    },
    mode: (channel) => modes[channel],
    deliveries: () => ({ webhook: copy(webhook.accepted), email: copy(email.accepted) }),
    refused: () => ({ webhook: webhook.refused, email: email.refused }),
    hung: () => ({ webhook: webhook.hung, email: email.hung }),
    async close() {
      http.closeAllConnections();
      for (const s of sockets) s.destroy();
      await Promise.all([close(http), close(smtp)]);
    },
  };
}
