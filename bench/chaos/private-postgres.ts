// A PostgreSQL 15 server of the chaos run's own, in a temporary directory, on a port of its own:
// restarting Postgres is one of the run's faults, and the machine's shared server (5432) serves
// everyone else. fsync stays on, so an `immediate` stop is an honest crash: what was committed
// must come back through crash recovery, and nothing else.
import { execFileSync, spawn } from "node:child_process";
import { appendFileSync, chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./free-port.js";

const BIN = "/usr/lib/postgresql/15/bin";
const READY_TIMEOUT_MS = 30_000;

export type StopMode = "fast" | "immediate";

export interface PrivatePostgres {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` (trust authentication). */
  url: string;
  port: number;
  /** The temporary directory: `data/` (with `server.log`) and the Unix socket. */
  dir: string;
  /** The server's log, for a failure's post-mortem. */
  logFile: string;
  /** `fast` ends sessions and checkpoints; `immediate` is a crash (recovery at the next start). */
  stop(mode?: StopMode): Promise<void>;
  /** Resolves once the server accepts connections. */
  start(): Promise<void>;
  restart(mode?: StopMode): Promise<void>;
  /** Stops it and removes its directory; a second call does nothing. */
  dispose(): Promise<void>;
}

/**
 * initdb and pg_ctl refuse to run as root. As root they run as the `postgres` OS user through
 * runuser (which, unlike su, needs no PAM session or password); as anyone else, as that user.
 */
function postgresUser(): { ids?: { uid: number; gid: number }; wrap: (bin: string, args: string[]) => [string, string[]] } {
  if (!existsSync(join(BIN, "pg_ctl"))) throw new Error(`private Postgres: no PostgreSQL 15 server binaries in ${BIN} (install postgresql-15)`);
  if (process.getuid?.() !== 0) return { wrap: (bin, args) => [join(BIN, bin), args] };
  const id = (flag: string) => {
    try {
      return Number(execFileSync("id", [flag, "postgres"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim());
    } catch {
      throw new Error("private Postgres: running as root, and there is no `postgres` OS user to run initdb and pg_ctl as (they refuse root)");
    }
  };
  const ids = { uid: id("-u"), gid: id("-g") };
  const runuser = ["/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser"].find((p) => existsSync(p));
  if (!runuser) throw new Error("private Postgres: running as root, and there is no `runuser` to run initdb and pg_ctl as the postgres user (they refuse root)");
  return { ids, wrap: (bin, args) => [runuser, ["-u", "postgres", "--", join(BIN, bin), ...args]] };
}

/** Runs a command to its exit; rejects with its output when it fails. */
function run(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    // stdin ignored; the server pg_ctl leaves behind writes to its log file, never to our pipes,
    // but 'exit' rather than 'close' is awaited in case a descendant kept them open.
    const child = spawn(command, args, { ...options, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (c: Buffer) => (output += c.toString()));
    child.stderr.on("data", (c: Buffer) => (output += c.toString()));
    child.once("error", reject);
    child.once("exit", (code) => resolve({ code: code ?? 1, output: output.trim() }));
  });
}

export async function startPrivatePostgres({ port: wanted, say = () => undefined }: { port?: number; say?: (line: string) => void } = {}): Promise<PrivatePostgres> {
  const user = postgresUser();
  const port = wanted ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), "lifecycle-chaos-pg-"));
  const dataDir = join(dir, "data");
  const logFile = join(dataDir, "server.log");
  if (user.ids) chownSync(dir, user.ids.uid, user.ids.gid);
  // The cwd must be one the postgres user may enter; HOME likewise. No PG* variables of ours
  // (PGPORT, PGHOST, PGDATA …) may reach pg_ctl, which would read them.
  const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("PG")));
  Object.assign(env, { HOME: dir, LC_ALL: "C", LANG: "C" });
  const pg = async (bin: string, args: string[], allowFailure = false) => {
    const [command, argv] = user.wrap(bin, args);
    const result = await run(command, argv, { cwd: dir, env });
    if (result.code !== 0 && !allowFailure) throw new Error(`private Postgres: ${bin} ${args.join(" ")} exited with ${result.code}: ${result.output}${logTail()}`);
    return result;
  };
  const logTail = () => {
    try {
      return `\n--- ${logFile} (end) ---\n${readFileSync(logFile, "utf8").split("\n").slice(-15).join("\n")}`;
    } catch {
      return "";
    }
  };

  let disposed = false;
  const running = async () => (await pg("pg_ctl", ["-D", dataDir, "status"], true)).code === 0;
  const start = async () => {
    if (disposed) throw new Error("private Postgres: already disposed");
    const t0 = Date.now();
    // -w waits until the server accepts connections (or gives up after -t seconds).
    await pg("pg_ctl", ["-D", dataDir, "-l", logFile, "-w", "-t", String(READY_TIMEOUT_MS / 1000), "start"]);
    // And once more over TCP, the way clients will come.
    const ready = await run(join(BIN, "pg_isready"), ["-h", "127.0.0.1", "-p", String(port), "-t", "10"], { cwd: dir, env });
    if (ready.code !== 0) throw new Error(`private Postgres: started, but not answering on 127.0.0.1:${port}: ${ready.output}${logTail()}`);
    say(`private Postgres: up on 127.0.0.1:${port} in ${Date.now() - t0} ms`);
  };
  const stop = async (mode: StopMode = "fast") => {
    if (!(await running())) return;
    await pg("pg_ctl", ["-D", dataDir, "-m", mode, "-w", "-t", String(READY_TIMEOUT_MS / 1000), "stop"]);
    say(`private Postgres: stopped (${mode})`);
  };

  say(`private Postgres: initdb in ${dataDir}`);
  try {
    // --no-sync: the cluster is thrown away with the run, so its creation need not be durable.
    await pg("initdb", ["-D", dataDir, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"]);
    // Appended, so these win over initdb's lines; the file stays the postgres user's.
    appendFileSync(
      join(dataDir, "postgresql.conf"),
      [
        "",
        "# bench/chaos/private-postgres.ts",
        "listen_addresses = '127.0.0.1'",
        `port = ${port}`,
        // Not /var/run/postgresql, where the shared server keeps its socket.
        `unix_socket_directories = '${dir}'`,
        "fsync = on",
        "synchronous_commit = on",
        "full_page_writes = on",
        "max_connections = 200",
        "shared_buffers = 128MB",
        "logging_collector = off",
        "log_line_prefix = '%m [%p] '",
        "",
      ].join("\n"),
    );
    await start();
  } catch (err) {
    await pg("pg_ctl", ["-D", dataDir, "-m", "immediate", "stop"], true).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }

  let disposing: Promise<void> | undefined;
  const dispose = () =>
    (disposing ??= (async () => {
      try {
        // The cluster goes with its directory: a crash stop is all the care it needs.
        await stop("immediate");
      } catch (err) {
        // Should pg_ctl fail, the postmaster still must not outlive the directory.
        let pid = 0;
        try {
          pid = Number(readFileSync(join(dataDir, "postmaster.pid"), "utf8").split("\n")[0]);
          if (pid > 0) process.kill(pid, "SIGKILL");
        } catch {
          // No pid file, or no such process: nothing left to end.
        }
        say(`private Postgres: pg_ctl stop failed (${err instanceof Error ? err.message : String(err)}); killed the postmaster ${pid || "(none found)"}`);
      } finally {
        disposed = true;
        rmSync(dir, { recursive: true, force: true });
      }
    })());

  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    dir,
    logFile,
    stop,
    start,
    async restart(mode: StopMode = "fast") {
      await stop(mode);
      await start();
    },
    dispose,
  };
}
