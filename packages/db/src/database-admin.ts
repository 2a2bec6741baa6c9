import pg from "pg";

// Creating and dropping databases needs a connection to another database on the same server.
function maintenanceUrl(databaseUrl: string): { adminUrl: string; name: string } {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.replace(/^\//, ""));
  if (!/^[A-Za-z0-9_-]{1,63}$/.test(name)) throw new Error(`unsupported database name: ${JSON.stringify(name)}`);
  url.pathname = "/postgres";
  return { adminUrl: url.toString(), name };
}

/** Runs `fn` with a client connected to the server's `postgres` database. */
export async function withDatabase<T>(connectionString: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Creates the database named in `databaseUrl` unless it exists. Returns true if it created it. */
export async function ensureDatabase(databaseUrl: string): Promise<boolean> {
  const { adminUrl, name } = maintenanceUrl(databaseUrl);
  return withDatabase(adminUrl, async (client) => {
    const found = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    if (found.rowCount) return false;
    try {
      await client.query(`CREATE DATABASE "${name}"`);
      return true;
    } catch (err) {
      // Another process created it between our check and our CREATE.
      if (err instanceof Error && "code" in err && err.code === "42P04") return false;
      throw err;
    }
  });
}

export async function createDatabase(databaseUrl: string): Promise<void> {
  const { adminUrl, name } = maintenanceUrl(databaseUrl);
  await withDatabase(adminUrl, (client) => client.query(`CREATE DATABASE "${name}"`));
}

export async function dropDatabase(databaseUrl: string): Promise<void> {
  const { adminUrl, name } = maintenanceUrl(databaseUrl);
  await withDatabase(adminUrl, (client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
}
