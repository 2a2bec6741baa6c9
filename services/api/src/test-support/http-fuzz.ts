import fc from "fast-check";
import type { FastifyInstance, InjectOptions } from "fastify";
import { expect } from "vitest";
import { z } from "zod";

// What the API fuzz tests share: strings as clients mangle them, percent-encoding that never
// throws (encodeURIComponent does on a lone surrogate), and the one check every answer must pass.

/** How long any answer may take: past this a request counts as a stall. */
export const ANSWER_WITHIN_MS = 5_000;

/** Strings from any UTF-16 code units (lone surrogates, U+0000), any code point, ASCII, and a few long ones. */
export const anyText = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: "grapheme", maxLength: 20 }) },
  fc.constantFrom("", " ", "x".repeat(5_000), "é".repeat(2_000), "😀".repeat(500), "../../etc/passwd", "%", "null", "undefined", "__proto__", "constructor"),
);

/** Values that look like what a parameter wants, but are not quite: numbers, dates, cursors. */
export const nearMissValue = fc.oneof(
  fc.constantFrom("-1", "0", "1", "1.5", "1e3", "1e309", "NaN", "Infinity", "-0", "0x10", "99999999999999999999", "2147483648", " 5", "5 "),
  fc.constantFrom("2026-02-30", "2026-13-01T00:00:00Z", "0000-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "1969-12-31T23:59:59Z", "2026-03-01T00:00:00+25:00", "2026-03-01", "yesterday", "2026-03-01T00:00:00.1234567890Z"),
  fc.integer().map(String),
  fc.double().map(String),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
);

/** Percent-encodes the UTF-8 bytes of a string (a lone surrogate becomes U+FFFD's bytes, as a client would send). */
export function percentEncode(s: string): string {
  return [...Buffer.from(s, "utf8")].map((b) => (/[A-Za-z0-9\-._~]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, "0")}`)).join("");
}

/** Fragments sent as they are: broken escapes and bytes that are not UTF-8. */
export const rawFragment = fc.constantFrom("%", "%zz", "%E0%A4%A", "%FF%FE", "%C0%AF", "%00", "%2e%2e%2f", "a=b=c", "&&&", "=", "[]=1", "a[b]=1", ";");

const ProblemBody = z.object({
  type: z.string().min(1),
  title: z.string().min(1),
  status: z.number().int(),
  detail: z.string().trim().min(1),
  errors: z.array(z.object({ path: z.string().min(1), message: z.string().min(1) })).optional(),
});

export interface Answer {
  status: number;
  contentType: string;
  body: string;
  ms: number;
}

/** `app.inject`, timed. */
export async function timedInject(app: FastifyInstance, options: InjectOptions): Promise<Answer> {
  const started = performance.now();
  const res = await app.inject(options);
  return { status: res.statusCode, contentType: String(res.headers["content-type"] ?? ""), body: res.body, ms: performance.now() - started };
}

/**
 * Never a 5xx (but a 503 the route documents), never past ANSWER_WITHIN_MS, and every 4xx is
 * problem details with a detail that says why (and well-formed `errors` when it lists them).
 */
export function expectWellAnswered(answer: Answer, documented: ReadonlySet<string>, what: string): void {
  const where = `${what} -> ${answer.status} ${answer.body.slice(0, 300)}`;
  expect(answer.ms, `slow (${Math.round(answer.ms)} ms): ${where}`).toBeLessThan(ANSWER_WITHIN_MS);
  if (answer.status === 503 && documented.has("503")) return;
  expect(answer.status, where).toBeLessThan(500);
  if (answer.status < 400) return;
  expect(answer.contentType, where).toContain("application/problem+json");
  let body: unknown;
  try {
    body = JSON.parse(answer.body);
  } catch {
    expect.fail(`a problem that is not JSON: ${where}`);
  }
  const parsed = ProblemBody.safeParse(body);
  expect(parsed.error?.issues ?? [], where).toEqual([]);
  expect(parsed.data?.status, where).toBe(answer.status);
}
