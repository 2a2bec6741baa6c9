// `npm run migrate`: applies pending migrations to DATABASE_URL (creating the database if needed).
import { z } from "zod";
import { loadConfig, pgEnv } from "@lifecycle/config";
import { redactUrl } from "@lifecycle/logging";
import { ensureDatabase } from "./database-admin.js";
import { migrate } from "./migrate.js";

const config = loadConfig(z.object({ DATABASE_URL: pgEnv.DATABASE_URL }));
await ensureDatabase(config.DATABASE_URL);
const applied = await migrate({ databaseUrl: config.DATABASE_URL });
console.log(`migrations: ${applied.length ? applied.join(", ") : "none pending"} (${redactUrl(config.DATABASE_URL)})`);
