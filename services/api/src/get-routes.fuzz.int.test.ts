import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { afterAll } from "vitest";
import { z } from "zod";
import { createClock } from "@lifecycle/engine";
import { LifecycleEvent, PLAYBOOKS } from "@lifecycle/events";
import { applyEvents, createApplyDeps } from "@lifecycle/pipeline";
import { arbitraryHistory, describe, expect, test } from "@lifecycle/testkit";
import { createApiHarness, type ApiHarness } from "./test-support/api-harness.js";
import { ANSWER_WITHIN_MS, anyText, expectWellAnswered, nearMissValue, percentEncode, rawFragment, timedInject } from "./test-support/http-fuzz.js";

// Every GET route of the published OpenAPI document (docs/openapi.json, which
// openapi-document.test.ts keeps equal to what the API serves), called with an admin key and
// arbitrary path parameters and query strings: unknown and repeated parameters, bad numbers and
// dates, huge and non-UTF-8 values. Never a 5xx (but a documented 503), never a stall, every
// refusal a problem with a reason. A few customers exist, so some ids reach real rows.

const OpenApi = z.object({
  paths: z.record(
    z.string(),
    z.record(z.string(), z.object({ parameters: z.array(z.object({ name: z.string(), in: z.string() })).optional(), responses: z.record(z.string(), z.unknown()) })),
  ),
});
const document = OpenApi.parse(JSON.parse(readFileSync(fileURLToPath(new URL("../../../docs/openapi.json", import.meta.url)), "utf8")));

/** The SSE stream never ends: it is only checked for answering quickly (below), not read. */
const STREAM = "/v1/alerts/stream";
const routes = Object.entries(document.paths).flatMap(([path, operations]) => {
  const get = operations.get;
  if (!get || path === STREAM) return [];
  const params = get.parameters ?? [];
  return [{ path, query: params.filter((p) => p.in === "query").map((p) => p.name), documented: new Set(Object.keys(get.responses)) }];
});

// Ids the seeded history uses (arbitraryHistory's customers, an e-mail id linked to c1, c3 merged
// into c2), so some requests find a customer and some an alias (a 308 to its customer).
const CUSTOMERS = ["c1", "c2", "c3", "email:c1@example.com"];
const identityEvents = (time: string): LifecycleEvent[] => [
  LifecycleEvent.parse({ specversion: "1.0", id: "fuzz-identify", source: "test", type: "customer.identified", subject: "c1", time, data: { ids: ["email:c1@example.com"] } }),
  LifecycleEvent.parse({ specversion: "1.0", id: "fuzz-merge", source: "test", type: "customer.merged", subject: "c2", time, data: { mergedIds: ["c3"] } }),
];
const pathValue = fc.oneof(fc.constantFrom(...CUSTOMERS, ...PLAYBOOKS).map(percentEncode), anyText.map(percentEncode), rawFragment);

/** A query string: the route's parameters and unknown ones, repeated or not, values near-miss or arbitrary, sometimes raw. */
const queryString = (known: readonly string[]) => {
  const name = known.length ? fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...known) }, anyText) : anyText;
  const pair = fc.oneof(
    { weight: 6, arbitrary: fc.tuple(name, fc.oneof(nearMissValue, anyText)).map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`) },
    fc.tuple(name, rawFragment).map(([k, raw]) => `${percentEncode(k)}=${raw}`),
    rawFragment,
  );
  return fc.array(pair, { maxLength: 8 }).map((pairs) => pairs.join("&"));
};

const fill = (path: string, value: string) => path.replace(/\{[^}]+\}/g, value);
const RUNS_PER_ROUTE = 150;
// Always tried first: what the fuzzing found once (fastify's own JSON for a bad escape and for a
// 5,000-character id, before answerFrameworkError; a year-0 instant), an unknown and repeated parameter, a huge value.
const EXAMPLES: [string, string][] = [
  ["%", ""],
  [percentEncode("x".repeat(5_000)), ""],
  ["c1", "unknown=1&unknown=2"],
  ["c1", `limit=1&limit=2&from=${"9".repeat(400)}`],
  // Year 0 (Postgres has none): a 500 until InstantParam took years 1000–9999 only.
  ["c1", "to=0000-01-01T00%3A00%3A00Z"],
  ["c1", "from=0000-01-01T00%3A00%3A00Z&to=0001-01-01T00%3A00%3A00Z"],
];

let h: ApiHarness;

describe("every GET route under arbitrary parameters", () => {
  test.beforeAll(async ({ infra, database }) => {
    // Limits far above what the runs send: a 429 would be a correct answer, but would end the fuzzing early.
    const high = 1_000_000;
    h = await createApiHarness({ infra, pool: database.pool, overrides: { rateLimitPerMinute: high, limits: { perAddressPerMinute: high, authFailuresPerMinute: high, readyzPerMinute: high } } });
    const history = fc.sample(arbitraryHistory, { numRuns: 1, seed: 12 })[0] ?? [];
    const deps = createApplyDeps({ pool: database.pool, rates: { USD: "1", EUR: "1.1" }, clock: createClock({ mode: "wall", wallNow: () => new Date("2026-04-01T00:00:00Z") }), modelCacheMs: 0 });
    const events = [...history, ...identityEvents("2026-03-01T12:00:00Z")];
    await applyEvents(deps, events.map((event, offset) => ({ event, topic: "t", partition: 0, offset })));
  });
  afterAll(async () => {
    await h?.close();
  });

  test("the seeded aliases answer 308 to their customer", async () => {
    for (const [alias, customer] of [["c3", "c2"], ["email:c1@example.com", "c1"]] as const) {
      const r = await h.app.inject({ url: `/v1/customers/${encodeURIComponent(alias)}`, headers: h.auth(h.keys.admin) });
      expect([r.statusCode, r.headers.location]).toEqual([308, `/v1/customers/${customer}`]);
    }
  });

  test("the document lists the routes this test walks", () => {
    expect(routes.map((r) => r.path)).toEqual(expect.arrayContaining(["/v1/customers/{id}", "/v1/customers", "/v1/metrics", "/v1/dashboard/trends"]));
  });

  for (const route of routes) {
    test(`GET ${route.path} (${RUNS_PER_ROUTE} runs)`, async () => {
      await fc.assert(
        fc.asyncProperty(pathValue, queryString(route.query), async (value, query) => {
          const url = `${fill(route.path, value)}${query ? `?${query}` : ""}`;
          const answer = await timedInject(h.app, { method: "GET", url, headers: h.auth(h.keys.admin) });
          expectWellAnswered(answer, route.documented, `GET ${url.slice(0, 300)}`);
        }),
        { numRuns: RUNS_PER_ROUTE, examples: EXAMPLES },
      );
    });
  }

  test(`GET ${STREAM}: arbitrary query strings and suffixes answer quickly, a stream or a 4xx problem (20 runs)`, async () => {
    // A stream is only seen over a real socket (the route hijacks the reply): listen, read the status, hang up.
    const base = await h.app.listen({ host: "127.0.0.1", port: 0 });
    await fc.assert(
      fc.asyncProperty(fc.oneof(queryString([]).map((q) => (q ? `?${q}` : "")), pathValue.map((v) => `/${v}`)), async (suffix) => {
        const abort = new AbortController();
        const started = performance.now();
        try {
          const res = await fetch(`${base}${STREAM}${suffix}`, { headers: h.auth(h.keys.read), signal: AbortSignal.any([abort.signal, AbortSignal.timeout(ANSWER_WITHIN_MS)]) });
          const ms = performance.now() - started;
          const contentType = res.headers.get("content-type") ?? "";
          // A stream's body never ends: its headers are the answer.
          const body = res.status === 200 ? "" : await res.text();
          if (res.status === 200) expect(contentType).toContain("text/event-stream");
          expectWellAnswered({ status: res.status, contentType, body, ms }, new Set(), `GET ${STREAM}${suffix.slice(0, 200)}`);
        } finally {
          abort.abort();
        }
      }),
      // Found by the fuzzing: a query over Node's 16 KiB header limit got Node's 431 in fastify's
      // plain JSON, until answerClientError.
      { numRuns: 20, examples: [[`?=${"x".repeat(20_000)}`]] },
    );
  });
});
