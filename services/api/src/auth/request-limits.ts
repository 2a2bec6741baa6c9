import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { problem, sendProblem } from "../http/problem.js";

/** Requests a minute, counted per process (each API replica keeps its own counts). */
export interface RequestLimits {
  /** Per client address, before authentication: a flood costs no key lookup. */
  perAddressPerMinute: number;
  /** Failed authentications per client address; past it the address gets 429s until the minute is over. */
  authFailuresPerMinute: number;
  /** Per API key id, after authentication. */
  perKeyPerMinute: number;
}

const MINUTE = 60_000;

type Check = Awaited<ReturnType<ReturnType<FastifyInstance["createRateLimit"]>>>;
/** `isAllowed` means allow-listed there; a counted request is over its limit when `isExceeded`. */
const over = (check: Check) => !check.isAllowed && check.isExceeded;

/**
 * The API's request limits, in the order a request meets them: its address, the address's failed
 * authentications, then (once its key is known) the key's own budget. Built on @fastify/rate-limit's
 * counters (its store, its windows); the answers are our problem details with `retry-after`.
 */
export function createRequestLimiters(app: FastifyInstance, limits: RequestLimits) {
  const byAddress = app.createRateLimit({ max: limits.perAddressPerMinute, timeWindow: MINUTE, keyGenerator: (r) => `ip:${r.ip}` });
  const failures = app.createRateLimit({ max: limits.authFailuresPerMinute, timeWindow: MINUTE, keyGenerator: (r) => `auth-failures:${r.ip}` });
  const byKey = app.createRateLimit({ max: limits.perKeyPerMinute, timeWindow: MINUTE, keyGenerator: (r) => `key:${r.apiKey?.id ?? ""}` });

  const refuse = async (reply: FastifyReply, request: FastifyRequest, check: Check, detail: string) => {
    const seconds = check.isAllowed ? 1 : Math.max(1, check.ttlInSeconds);
    await sendProblem(reply, request, problem(429, `${detail}; retry in ${seconds} s`), { "retry-after": String(seconds) });
  };

  return {
    /** Counts the request against its address; answers 429 and returns false when over. */
    async address(request: FastifyRequest, reply: FastifyReply): Promise<boolean> {
      const check = await byAddress(request);
      if (!over(check)) return true;
      await refuse(reply, request, check, `rate limit of ${limits.perAddressPerMinute} requests a minute from this address exceeded`);
      return false;
    },
    /** Whether the address may still try a key (no count); answers 429 and returns false when not. */
    async mayAuthenticate(request: FastifyRequest, reply: FastifyReply): Promise<boolean> {
      // Read without counting: at the limit already (no attempts left), the key is not even looked up.
      const check = await failures(request, { increment: false });
      if (check.isAllowed || check.remaining > 0) return true;
      await refuse(reply, request, check, `too many failed authentications from this address (${limits.authFailuresPerMinute} a minute)`);
      return false;
    },
    /** Counts a failed authentication against the address. */
    async failed(request: FastifyRequest): Promise<void> {
      await failures(request);
    },
    /** Counts the request against its (authenticated) key; answers 429 and returns false when over. */
    async key(request: FastifyRequest, reply: FastifyReply): Promise<boolean> {
      const check = await byKey(request);
      if (!over(check)) return true;
      await refuse(reply, request, check, `rate limit of ${limits.perKeyPerMinute} requests a minute for this API key exceeded`);
      return false;
    },
  };
}
export type RequestLimiters = ReturnType<typeof createRequestLimiters>;
