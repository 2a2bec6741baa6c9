// `npm run keys -- create --scope read [--scope ingest] [--name crm] [--expires 30d]`,
// `npm run keys -- rotate <id> [--overlap 7d] [--expires 90d]`, `npm run keys -- list`,
// `npm run keys -- revoke <id>`: API keys. The plaintext key is printed once, at creation. Every
// change is written to the audit log (actor `cli:<user>`), read with GET /v1/audit.
import { userInfo } from "node:os";
import { parseArgs } from "node:util";
import { z } from "zod";
import { loadConfig, pgEnv } from "@lifecycle/config";
import { API_SCOPES, createApiKeyRepo, createAuditLogRepo, createPool, ensureDatabase, migrate, withTransaction, type ApiScope } from "@lifecycle/db";
import { parseDuration } from "./lib/duration.js";

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { scope: { type: "string", multiple: true }, name: { type: "string" }, expires: { type: "string" }, overlap: { type: "string", default: "7d" } },
});
const config = loadConfig(z.object({ ...pgEnv }));
const usage = (problem?: string) => {
  if (problem) console.error(problem);
  console.error(
    `usage: npm run keys -- create --scope <${API_SCOPES.join("|")}> [--scope …] [--name <name>] [--expires <n>d|h|m]\n` +
      "       npm run keys -- rotate <id> [--overlap 7d] [--expires <n>d|h|m] | list | revoke <id>",
  );
  process.exitCode = 2;
};
const isScope = (s: string): s is ApiScope => API_SCOPES.some((x) => x === s);
const actor = `cli:${userInfo().username}`;
const when = (d: Date | null, none: string) => (d ? d.toISOString() : none);

/** --expires as a date, or undefined (no expiry); null when the text is not a duration. */
function expiry(): Date | undefined | null {
  if (values.expires === undefined) return undefined;
  const ms = parseDuration(values.expires);
  return ms === undefined ? null : new Date(Date.now() + ms);
}

await ensureDatabase(config.DATABASE_URL);
await migrate({ databaseUrl: config.DATABASE_URL });
const pool = createPool({ connectionString: config.DATABASE_URL, max: 1, applicationName: "lifecycle-keys" });
const keys = createApiKeyRepo(pool);
const audit = createAuditLogRepo(pool);
try {
  switch (positionals[0]) {
    case "create": {
      const scopes = values.scope ?? [];
      const bad = scopes.filter((s) => !isScope(s));
      const expiresAt = expiry();
      if (scopes.length === 0 || bad.length) {
        usage(bad.length ? `unknown scope(s): ${bad.join(", ")}` : undefined);
        break;
      }
      if (expiresAt === null) {
        usage(`--expires takes a duration such as 30d, 12h or 90m, not ${values.expires ?? ""}`);
        break;
      }
      const { id, key } = await withTransaction(pool, async (tx) => {
        const made = await keys.create({ name: values.name ?? "unnamed", scopes: scopes.filter(isScope), expiresAt }, tx);
        await audit.record({ actor, action: "key.created", subject: made.id, details: { scopes, expiresAt: expiresAt?.toISOString() ?? null } }, tx);
        return made;
      });
      console.log(`created key ${id} with scopes ${scopes.join(", ")}${expiresAt ? `, expiring ${expiresAt.toISOString()}` : ""}; keep it now, it is not stored:\n${key}`);
      break;
    }
    case "rotate": {
      const id = positionals[1];
      const overlapMs = parseDuration(values.overlap);
      const expiresAt = expiry();
      if (!id || overlapMs === undefined || expiresAt === null) {
        usage(!id ? undefined : "--overlap and --expires take a duration such as 7d, 12h or 90m");
        break;
      }
      const rotated = await withTransaction(pool, async (tx) => {
        const made = await keys.rotate(id, { overlapMs, expiresAt }, tx);
        if (made) await audit.record({ actor, action: "key.rotated", subject: id, details: { replacedBy: made.id, oldExpiresAt: made.oldExpiresAt.toISOString() } }, tx);
        return made;
      });
      if (!rotated) console.log(`no usable key ${id}`);
      else console.log(`key ${id} now expires ${rotated.oldExpiresAt.toISOString()}; its replacement ${rotated.id} (keep it now, it is not stored):\n${rotated.key}`);
      break;
    }
    case "list":
      console.log(["id", "name", "scopes", "created", "last used", "expires", "state"].join("\t"));
      for (const k of await keys.list()) {
        const state = k.revokedAt ? `revoked ${k.revokedAt.toISOString()}` : k.expiresAt && k.expiresAt <= new Date() ? "expired" : k.replacedBy ? `active, replaced by ${k.replacedBy}` : "active";
        console.log([k.id, k.name, k.scopes.join(","), k.createdAt.toISOString(), when(k.lastUsedAt, "never"), when(k.expiresAt, "never"), state].join("\t"));
      }
      break;
    case "revoke": {
      const id = positionals[1];
      if (!id) {
        usage();
        break;
      }
      const revoked = await withTransaction(pool, async (tx) => {
        const done = await keys.revoke(id, tx);
        if (done) await audit.record({ actor, action: "key.revoked", subject: id }, tx);
        return done;
      });
      console.log(revoked ? `revoked ${id}` : `no active key ${id}`);
      break;
    }
    case undefined:
    default:
      usage();
  }
} finally {
  await pool.end();
}
