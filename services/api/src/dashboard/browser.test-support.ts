import { execFileSync } from "node:child_process";
import type { Page } from "playwright-core";

/** The Chromium to drive: Debian's `chromium` (or another Chromium on PATH). Missing is a failure, not a skip. */
export function findChromium(): string {
  for (const name of ["chromium", "chromium-browser"]) {
    try {
      const path = execFileSync("which", [name], { encoding: "utf8" }).trim();
      if (path) return path;
    } catch {
      // not under this name
    }
  }
  throw new Error(
    "Chromium was not found (`which chromium` found nothing). The dashboard test drives a real headless browser: " +
      "install Debian's package with `apt-get install -y chromium` (.ci/run installs it when it runs as root).",
  );
}

/**
 * Everything that goes wrong in a page: console errors, uncaught exceptions, failed requests and
 * HTTP errors. The one expected failure is the live alert stream cancelled by leaving the page.
 */
export function watchProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console error: ${m.text()} (${m.location().url})`);
  });
  page.on("pageerror", (e) => problems.push(`uncaught: ${e.message}`));
  page.on("requestfailed", (r) => {
    const cancelledStream = new URL(r.url()).pathname === "/v1/alerts/stream" && r.failure()?.errorText === "net::ERR_ABORTED";
    if (!cancelledStream) problems.push(`request failed: ${r.method()} ${r.url()}: ${r.failure()?.errorText ?? "?"}`);
  });
  page.on("response", (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.request().method()} ${r.url()}`);
  });
  return problems;
}
