import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { chmodSync, chownSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

// Throwaway TLS servers for tests: a CA and a server certificate made with openssl, a Postgres
// cluster that accepts only TLS connections with a password, and a Redis that speaks only TLS.

export interface TestCa {
  dir: string;
  caFile: string;
  certFile: string;
  keyFile: string;
}

const openssl = (args: string[], cwd: string) => execFileSync("openssl", args, { cwd, stdio: "pipe" });

/** A CA and a certificate for 127.0.0.1 / localhost signed by it, in a fresh directory. */
export function makeTestCa(name: string): TestCa {
  const dir = mkdtempSync(join(tmpdir(), `${name}-tls-`));
  openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", `/CN=${name} test CA`, "-keyout", "ca.key", "-out", "ca.pem"], dir);
  openssl(["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", "server.key", "-out", "server.csr"], dir);
  writeFileSync(join(dir, "san.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  openssl(["x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2", "-extfile", "san.ext", "-out", "server.pem"], dir);
  return { dir, caFile: join(dir, "ca.pem"), certFile: join(dir, "server.pem"), keyFile: join(dir, "server.key") };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

// The server's own binaries (Debian keeps initdb and pg_ctl off PATH, under pg_config's bindir).
const PG_BIN = execFileSync("pg_config", ["--bindir"]).toString().trim();
// initdb and postgres refuse to run as root; as root (CI here) they run as the postgres user.
const asPostgres = (cmd: string, args: string[]) => (process.getuid?.() === 0 ? { cmd: "runuser", args: ["-u", "postgres", "--", cmd, ...args] } : { cmd, args });

export interface TlsPostgres {
  port: number;
  /** A connection string for `user` with `password`, plus the given query (e.g. sslmode). */
  url(query: string, password?: string): string;
  stop(): Promise<void>;
}

/** A Postgres cluster on a free port that admits only `hostssl` connections with a SCRAM password. */
export async function startTlsPostgres(ca: TestCa, { user = "lifecycle", password = "pg-secret" } = {}): Promise<TlsPostgres> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "lifecycle-pg-tls-"));
  const data = join(dir, "data");
  const pwFile = join(dir, "pw");
  writeFileSync(pwFile, `${password}\n`);
  if (process.getuid?.() === 0) {
    chownSync(dir, ...postgresIds());
    chownSync(pwFile, ...postgresIds());
  }
  const init = asPostgres(join(PG_BIN, "initdb"), ["-D", data, "-U", user, "--pwfile", pwFile, "--auth", "scram-sha-256", "-E", "UTF8", "--no-sync"]);
  execFileSync(init.cmd, init.args, { stdio: "pipe" });
  for (const [from, to] of [
    [ca.certFile, "server.crt"],
    [ca.keyFile, "server.key"],
  ] as const) {
    execFileSync("cp", [from, join(data, to)]);
    chmodSync(join(data, to), 0o600);
    if (process.getuid?.() === 0) chownSync(join(data, to), ...postgresIds());
  }
  // TLS only: no `host` line, so a plaintext connection finds no pg_hba entry.
  writeFileSync(join(data, "pg_hba.conf"), "hostssl all all 127.0.0.1/32 scram-sha-256\n");
  const conf = ["ssl = on", `port = ${port}`, "listen_addresses = '127.0.0.1'", `unix_socket_directories = '${dir}'`, "fsync = off", "max_connections = 30", "shared_buffers = 16MB"];
  writeFileSync(join(data, "postgresql.auto.conf"), `${conf.join("\n")}\n`);
  if (process.getuid?.() === 0) execFileSync("chown", ["-R", "postgres:postgres", data]);
  const ctl = (action: string[]) => asPostgres(join(PG_BIN, "pg_ctl"), ["-D", data, ...action]);
  const start = ctl(["-l", join(dir, "postgres.log"), "-w", "-t", "30", "start"]);
  execFileSync(start.cmd, start.args, { stdio: "pipe" });
  return {
    port,
    url: (query, pw = password) => `postgres://${user}:${encodeURIComponent(pw)}@127.0.0.1:${port}/postgres${query ? `?${query}` : ""}`,
    async stop() {
      const stop = ctl(["-m", "immediate", "-w", "stop"]);
      try {
        execFileSync(stop.cmd, stop.args, { stdio: "pipe" });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

function postgresIds(): [number, number] {
  const id = (flag: string) => Number(execFileSync("id", [flag, "postgres"]).toString().trim());
  return [id("-u"), id("-g")];
}

export interface TlsRedis {
  port: number;
  url(password?: string): string;
  stop(): Promise<void>;
}

/** A Redis on a free port that speaks only TLS and requires a password. */
export async function startTlsRedis(ca: TestCa, { password = "redis-secret" } = {}): Promise<TlsRedis> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    "redis-server",
    ["--port", "0", "--tls-port", String(port), "--bind", "127.0.0.1", "--tls-cert-file", ca.certFile, "--tls-key-file", ca.keyFile, "--tls-ca-cert-file", ca.caFile, "--tls-auth-clients", "no", "--requirepass", password, "--save", "", "--appendonly", "no", "--dir", ca.dir],
    { stdio: "ignore" },
  );
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  // Up when the TLS port accepts connections.
  for (const deadline = Date.now() + 10_000; ; ) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => (socket.destroy(), resolve(true)));
      socket.once("error", () => resolve(false));
    });
    if (open) break;
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`redis-server with TLS did not start on ${port}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    port,
    url: (pw = password) => `rediss://:${encodeURIComponent(pw)}@127.0.0.1:${port}`,
    async stop() {
      child.kill("SIGTERM");
      await exited;
    },
  };
}
