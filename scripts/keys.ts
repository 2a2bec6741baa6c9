// `npm run keys -- create --scope read [--scope ingest] [--name crm]`, `npm run keys -- list`,
// `npm run keys -- revoke <id>`: API keys. The plaintext key is printed once, at creation.
import { parseArgs } from "node:util";
import { z } from "zod";
import { loadConfig, pgEnv } from "@lifecycle/config";
import { API_SCOPES, createApiKeyRepo, createPool, ensureDatabase, migrate, type ApiScope } from "@lifecycle/db";

const { positionals, values } = parseArgs({ allowPositionals: true, options: { scope: { type: "string", multiple: true }, name: { type: "string" } } });
const config = loadConfig(z.object({ ...pgEnv }));
const usage = () => {
  console.error(`usage: npm run keys -- create --scope <${API_SCOPES.join("|")}> [--scope …] [--name <name>] | list | revoke <id>`);
  process.exitCode = 2;
};
const isScope = (s: string): s is ApiScope => API_SCOPES.some((x) => x === s);

await ensureDatabase(config.DATABASE_URL);
await migrate({ databaseUrl: config.DATABASE_URL });
const pool = createPool({ connectionString: config.DATABASE_URL, max: 1, applicationName: "lifecycle-keys" });
const keys = createApiKeyRepo(pool);
try {
  switch (positionals[0]) {
    case "create": {
      const scopes = values.scope ?? [];
      const bad = scopes.filter((s) => !isScope(s));
      if (scopes.length === 0 || bad.length) {
        if (bad.length) console.error(`unknown scope(s): ${bad.join(", ")}`);
        usage();
        break;
      }
      const { id, key } = await keys.create({ name: values.name ?? "unnamed", scopes: scopes.filter(isScope) });
      console.log(`created key ${id} with scopes ${scopes.join(", ")}; keep it now, it is not stored:\n${key}`);
      break;
    }
    case "list":
      for (const k of await keys.list()) console.log([k.id, k.name, k.scopes.join(","), k.createdAt.toISOString(), k.revokedAt ? `revoked ${k.revokedAt.toISOString()}` : "active"].join("\t"));
      break;
    case "revoke": {
      const id = positionals[1];
      if (!id) usage();
      else console.log((await keys.revoke(id)) ? `revoked ${id}` : `no active key ${id}`);
      break;
    }
    case undefined:
    default:
      usage();
  }
} finally {
  await pool.end();
}
