// `npm run refit`: fits BG/NBD and Gamma-Gamma now (as the worker's daily schedule does), then
// sweeps due stages, and prints the parameters, the timings and the stage distribution.
// Uses DATABASE_URL and the engine's environment (LIFECYCLE_CLOCK=watermark after a replay of history).
import { z } from "zod";
import { loadConfig, pgEnv } from "@lifecycle/config";
import { createPool } from "@lifecycle/db";
import { createClock, engineEnv, engineSettings } from "@lifecycle/engine";
import { describeEngineRun, refitAndSweep } from "./lib/refit-and-sweep.js";

const config = loadConfig(z.object({ ...pgEnv, ...engineEnv }));
const pool = createPool({ connectionString: config.DATABASE_URL, max: 2, applicationName: "lifecycle-refit" });
try {
  const run = await refitAndSweep({ pool, clock: createClock({ mode: config.LIFECYCLE_CLOCK }), settings: engineSettings(config) });
  for (const line of describeEngineRun(run)) console.log(line);
} finally {
  await pool.end();
}
