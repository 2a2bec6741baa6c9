/* global fetch, AbortSignal -- Node 20+ globals */
// The image's HEALTHCHECK: 0 when the service's /readyz answers 200 within 2 s, else 1.
// Ingest and worker serve it on PROBE_PORT (9464, 9465 by default), the API on API_PORT (8080).
const service = process.env.SERVICE ?? "ingest";
const defaults = { ingest: 9464, worker: 9465, api: 8080 };
const port = service === "api" ? (process.env.API_PORT ?? defaults.api) : (process.env.PROBE_PORT ?? defaults[service]);
try {
  const res = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(2_000) });
  process.exit(res.ok ? 0 : 1);
} catch {
  process.exit(1);
}
