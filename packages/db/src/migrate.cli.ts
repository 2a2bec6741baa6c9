// `npm run migrate` (and the images' `node services/<name>/dist/migrate.js`, the Kubernetes
// migration Job): applies pending migrations to DATABASE_URL, creating the database where the
// role may; a wrong password or certificate is one line naming DATABASE_URL and exit code 1.
import { z } from "zod";
import { loadConfig, pgEnv } from "@lifecycle/config";
import { redactUrl } from "@lifecycle/logging";
import { ensureDatabase } from "./database-admin.js";
import { migrate } from "./migrate.js";
import { verifyPostgres } from "./verify-postgres.js";

const config = loadConfig(z.object({ DATABASE_URL: pgEnv.DATABASE_URL }));
try {
  // A managed database's role may not create databases: then it must exist, which verify checks.
  await ensureDatabase(config.DATABASE_URL).catch(() => false);
  await verifyPostgres(config.DATABASE_URL);
  const applied = await migrate({ databaseUrl: config.DATABASE_URL });
  console.log(`migrations: ${applied.length ? applied.join(", ") : "none pending"} (${redactUrl(config.DATABASE_URL)})`);
} catch (err) {
  console.error(`migrations failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
