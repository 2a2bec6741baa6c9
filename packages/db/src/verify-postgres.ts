import pg from "pg";

/** A start-up failure to reach Postgres, its message naming the setting to fix. */
export class PostgresSettingsError extends Error {
  override name = "PostgresSettingsError";
}

// Errors a wrong setting causes, by SQLSTATE or Node/TLS error code, and what to say about them.
const BY_SQLSTATE: Record<string, string> = {
  "28P01": "Postgres refused the password",
  "28000": "Postgres refused the connection (pg_hba.conf: no entry for this user, address and encryption; does the server require sslmode?)",
  "3D000": "the database does not exist",
};
const TLS_CODES = new Set(["SELF_SIGNED_CERT_IN_CHAIN", "DEPTH_ZERO_SELF_SIGNED_CERT", "UNABLE_TO_VERIFY_LEAF_SIGNATURE", "UNABLE_TO_GET_ISSUER_CERT_LOCALLY", "ERR_TLS_CERT_ALTNAME_INVALID", "CERT_HAS_EXPIRED"]);

function explain(err: unknown): string {
  const code: unknown = typeof err === "object" && err !== null ? Reflect.get(err, "code") : undefined;
  const message = err instanceof Error ? err.message : String(err);
  const known = typeof code === "string" ? BY_SQLSTATE[code] : undefined;
  if (known) return `${known} (${message})`;
  if (typeof code === "string" && TLS_CODES.has(code)) return `the server's certificate is not trusted: set sslrootcert to the CA that signed it, or check the host name (${message})`;
  if (code === "ENOENT" || code === "EACCES") return `cannot read a certificate file it names, sslrootcert/sslcert/sslkey (${message})`;
  if (/does not support SSL/i.test(message)) return `the server does not accept TLS: remove sslmode or enable ssl on the server (${message})`;
  return message;
}

/**
 * Start-up check: one connection with the URL's credentials and TLS settings, within `timeoutMs`.
 * A wrong password, an untrusted certificate or a missing root certificate file is an error
 * naming DATABASE_URL instead of a stack trace from deep inside a migration.
 */
export async function verifyPostgres(connectionString: string, { setting = "DATABASE_URL", timeoutMs = 15_000 }: { setting?: string; timeoutMs?: number } = {}): Promise<void> {
  let client: pg.Client;
  try {
    // Parsing reads sslrootcert and friends, so a missing file fails here.
    client = new pg.Client({ connectionString, connectionTimeoutMillis: timeoutMs });
  } catch (err) {
    throw new PostgresSettingsError(`${setting}: ${explain(err)}`, { cause: err });
  }
  client.on("error", () => undefined);
  try {
    await client.connect();
    await client.query("SELECT 1");
  } catch (err) {
    throw new PostgresSettingsError(`${setting}: ${explain(err)}`, { cause: err });
  } finally {
    await client.end().catch(() => undefined);
  }
}
