import { existsSync, readFileSync } from "node:fs";
import pg from "pg";
import { describe, expect, test } from "@lifecycle/testkit";
import { startPrivatePostgres } from "../bench/chaos/private-postgres.js";

// Issue 16: the chaos run restarts Postgres as a fault, on a server of its own. An `immediate`
// stop must be a real crash (recovery at the next start) that loses nothing committed, clients
// must see the outage, and dispose() must leave nothing behind.
async function query<T extends pg.QueryResultRow>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

describe("private Postgres for the chaos run", { timeout: 30_000 }, () => {
  test("a committed row survives an immediate (crash) restart; connections fail while it is down; dispose removes everything", async () => {
    const lines: string[] = [];
    const postgres = await startPrivatePostgres({ say: (line) => lines.push(line) });
    try {
      expect(postgres.port).not.toBe(5432);
      expect(postgres.url).toBe(`postgres://postgres@127.0.0.1:${postgres.port}/postgres`);
      const [settings] = await query<{ fsync: string; max_connections: string; shared_buffers: string; port: string; unix_socket_directories: string }>(
        postgres.url,
        "SELECT current_setting('fsync') AS fsync, current_setting('max_connections') AS max_connections, current_setting('shared_buffers') AS shared_buffers, current_setting('port') AS port, current_setting('unix_socket_directories') AS unix_socket_directories",
      );
      expect(settings).toEqual({ fsync: "on", max_connections: "200", shared_buffers: "128MB", port: String(postgres.port), unix_socket_directories: postgres.dir });

      await query(postgres.url, "CREATE TABLE chaos_probe (id int PRIMARY KEY, note text NOT NULL)");
      await query(postgres.url, "INSERT INTO chaos_probe VALUES (1, 'committed before the crash')");

      // A crash: while it is down, a connection is refused.
      await postgres.stop("immediate");
      await expect(query(postgres.url, "SELECT 1")).rejects.toThrow(/ECONNREFUSED/);
      await postgres.start();
      expect(readFileSync(postgres.logFile, "utf8")).toMatch(/not properly shut down; automatic recovery in progress/);
      expect(await query(postgres.url, "SELECT id, note FROM chaos_probe")).toEqual([{ id: 1, note: "committed before the crash" }]);

      // restart() does both; a client connected across it loses its connection, a new one works.
      const held = new pg.Client({ connectionString: postgres.url });
      const heldError = new Promise<Error>((resolve) => held.once("error", resolve));
      await held.connect();
      await query(postgres.url, "INSERT INTO chaos_probe VALUES (2, 'committed before the restart')");
      await postgres.restart("immediate");
      expect((await heldError).message).toMatch(/terminat|connection/i);
      await held.end().catch(() => undefined);
      expect(await query<{ n: number }>(postgres.url, "SELECT count(*)::int AS n FROM chaos_probe")).toEqual([{ n: 2 }]);

      // fast: a clean shutdown, no recovery needed.
      await postgres.restart("fast");
      expect(await query<{ n: number }>(postgres.url, "SELECT count(*)::int AS n FROM chaos_probe")).toEqual([{ n: 2 }]);
      // Stopping a stopped server is fine.
      await postgres.stop();
      await postgres.stop();
    } finally {
      await postgres.dispose();
    }
    expect(existsSync(postgres.dir)).toBe(false);
    await postgres.dispose();
    await expect(postgres.start()).rejects.toThrow(/disposed/);
    expect(lines.some((l) => l.includes("stopped (immediate)"))).toBe(true);
  });
});
