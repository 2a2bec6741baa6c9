// Harmless peers for the worker's delivery channels, on loopback: an HTTP receiver for signed
// webhooks (answers 204) and an SMTP server that accepts every message and keeps none. They only
// count what arrives, so the worker runs with every channel configured, as in production.
import { createServer as createHttpServer } from "node:http";
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from "node:net";

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve, reject) => server.once("error", reject).listen(0, "127.0.0.1", () => resolve()));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("sink: no TCP address");
  return (address satisfies AddressInfo).port;
}

/** Answers the SMTP dialogue nodemailer holds (no STARTTLS offered, so none is attempted). */
function smtpSession(socket: Socket, onMessage: () => void) {
  let buffer = "";
  let inData = false;
  const reply = (line: string) => socket.write(`${line}\r\n`);
  reply("220 bench-sink ESMTP");
  socket.on("error", () => socket.destroy());
  socket.on("data", (chunk) => {
    buffer += chunk.toString("latin1");
    for (let i = buffer.indexOf("\r\n"); i >= 0; i = buffer.indexOf("\r\n")) {
      const line = buffer.slice(0, i);
      buffer = buffer.slice(i + 2);
      if (inData) {
        if (line === ".") {
          inData = false;
          onMessage();
          reply("250 2.0.0 accepted and discarded");
        }
        continue;
      }
      const verb = line.slice(0, 4).toUpperCase();
      if (verb === "EHLO") reply("250-bench-sink\r\n250 8BITMIME");
      else if (verb === "DATA") {
        inData = true;
        reply("354 end with <CRLF>.<CRLF>");
      } else if (verb === "QUIT") {
        reply("221 bye");
        socket.end();
      } else reply("250 OK");
    }
  });
}

export interface Sinks {
  webhookUrl: string;
  smtpUrl: string;
  received(): { webhooks: number; emails: number };
  close(): Promise<void>;
}

export async function startSinks(): Promise<Sinks> {
  let webhooks = 0;
  let emails = 0;
  const http = createHttpServer((req, res) => {
    req.resume();
    req.on("end", () => {
      webhooks++;
      res.writeHead(204).end();
    });
  });
  const sockets = new Set<Socket>();
  const smtp = createTcpServer((socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    smtpSession(socket, () => emails++);
  });
  const [httpPort, smtpPort] = await Promise.all([listen(http), listen(smtp)]);
  const close = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()));
  return {
    webhookUrl: `http://127.0.0.1:${httpPort}/follow-ups`,
    smtpUrl: `smtp://127.0.0.1:${smtpPort}`,
    received: () => ({ webhooks, emails }),
    async close() {
      http.closeAllConnections();
      for (const s of sockets) s.destroy();
      await Promise.all([close(http), close(smtp)]);
    },
  };
}
