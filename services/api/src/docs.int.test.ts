import { chromium } from "playwright-core";
import { describe, expect, test } from "@lifecycle/testkit";
import { findChromium, watchProblems } from "./dashboard/browser.test-support.js";
import { createApiHarness } from "./test-support/api-harness.js";

// The documentation UI under the API's strict Content-Security-Policy (no 'unsafe-inline'): it must
// render every route and break no rule, in a real Chromium. An upgrade of Swagger UI that inserts
// other inline code shows up here as a CSP violation.
describe("/docs in Chromium", () => {
  test("Swagger UI renders every operation without a CSP violation or a failed request", { timeout: 60_000 }, async ({ infra, database }) => {
    const h = await createApiHarness({ infra, pool: database.pool, overrides: { docs: "public" } });
    const base = await h.app.listen({ port: 0, host: "127.0.0.1" });
    const browser = await chromium.launch({ executablePath: findChromium() });
    try {
      const page = await browser.newPage();
      const problems = watchProblems(page);
      await page.goto(`${base}/docs/`);
      await page.waitForSelector(".opblock", { timeout: 20_000 });
      const spec = await h.app.inject({ url: "/docs/json" });
      const operations = Object.values(spec.json<{ paths: Record<string, object> }>().paths).reduce((n, methods) => n + Object.keys(methods).length, 0);
      expect(await page.locator(".opblock").count()).toBe(operations);
      expect(problems).toEqual([]);
    } finally {
      await browser.close();
      await h.close();
    }
  });
});
