import type { Duplex } from "node:stream";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from "fastify-type-provider-zod";
import { isDatabaseUnavailable, sqlStateOf } from "@lifecycle/db";

/** SQLSTATE 57014: a statement cancelled, here by statement_timeout. */
const QUERY_CANCELED = "57014";

/** RFC 9457 problem details: what clients get for every error, never a stack or an SQL message. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  /** For 400s: each invalid field with what is wrong. */
  errors?: { path: string; message: string }[];
}

const TITLES: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  413: "Payload Too Large",
  414: "URI Too Long",
  415: "Unsupported Media Type",
  422: "Unprocessable Content",
  429: "Too Many Requests",
  500: "Internal Server Error",
  503: "Service Unavailable",
};

export function problem(status: number, detail?: string, extra: Partial<Problem> = {}): Problem {
  return { type: "about:blank", title: TITLES[status] ?? "Error", status, ...(detail ? { detail } : {}), ...extra };
}

/** An error a handler throws to answer with a problem (404 for an unknown customer, 403 …). */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    detail: string,
  ) {
    super(detail);
  }
}

/**
 * Answers a problem: the one place every error answer is written (the handlers below, the router's
 * errors, authentication, the limits, a route that answers one itself), so all are
 * `application/problem+json` with the request as `instance`.
 */
export function sendProblem(reply: FastifyReply, request: FastifyRequest, p: Problem, headers: Record<string, string> = {}): FastifyReply {
  return reply.status(p.status).headers(headers).type("application/problem+json").send({ ...p, instance: request.url });
}

/** Error and not-found handlers that answer `application/problem+json`. */
export function installProblemHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const send = (p: Problem, headers?: Record<string, string>) => sendProblem(reply, request, p, headers);
    if (error instanceof HttpProblem) return send(problem(error.status, error.message));
    if (hasZodFastifySchemaValidationErrors(error)) {
      const where = error.validationContext ?? "request";
      const errors = error.validation.map((v) => ({ path: `${where}${v.instancePath.replaceAll("/", ".") || ""}`, message: v.message ?? "is invalid" }));
      return send(problem(400, errors.map((e) => `${e.path}: ${e.message}`).join("; "), { errors }));
    }
    // The pool's statement_timeout (PG_STATEMENT_TIMEOUT_MS) cancelled the query: the request asked
    // for too much now; the connection is free again and other requests go on.
    if (sqlStateOf(error) === QUERY_CANCELED) {
      request.log.warn({ err: error }, "query cancelled by the statement timeout");
      return send(problem(503, "the query ran past the API's statement timeout (PG_STATEMENT_TIMEOUT_MS); narrow the request or retry later"), { "retry-after": "5" });
    }
    // PostgreSQL is down or restarting (the key check or the query could not reach it): the
    // request was fine, so a retry later will do, as after a Kafka outage.
    if (isDatabaseUnavailable(error)) {
      request.log.warn({ err: error }, "database unavailable");
      return send(problem(503, "the database is unavailable; retry shortly"), { "retry-after": "5" });
    }
    if (isResponseSerializationError(error)) {
      request.log.error({ err: error }, "response did not match its schema");
      return send(problem(500));
    }
    const status = error.statusCode ?? 500;
    if (status >= 500) {
      request.log.error({ err: error }, "request failed");
      return send(problem(status));
    }
    // Fastify's own 4xx (bad JSON, body too large, unsupported media type, rate limit): their messages are safe.
    return send(problem(status, error.message));
  });
  app.setNotFoundHandler((request, reply) => {
    void sendProblem(reply, request, problem(404, `no route ${request.method} ${request.url.split("?")[0] ?? ""}`));
  });
}

/**
 * Fastify's `frameworkErrors`: what its router answers before any route, hook or error handler
 * runs (a malformed percent-escape in the path: FST_ERR_BAD_URL, 400; a path parameter past
 * maxParamLength: FST_ERR_MAX_PARAM_LENGTH, 414), as problem details instead of fastify's own
 * JSON. The detail does not repeat the path: it can be kilobytes long.
 */
export function answerFrameworkError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const status = error.statusCode ?? 500;
  const detail =
    error.code === "FST_ERR_BAD_URL"
      ? "the path holds a malformed percent-escape (or bytes that are not UTF-8)"
      : error.code === "FST_ERR_MAX_PARAM_LENGTH"
        ? "a path parameter is longer than the router accepts"
        : error.message;
  if (status >= 500) request.log.error({ err: error }, "request failed in the router");
  void sendProblem(reply, request, problem(status, status >= 500 ? undefined : detail));
}

/**
 * Errors Node's HTTP parser raises before fastify sees a request (headers or URL over the size
 * limit: 431; a malformed request: 400), answered as problem details like every other error
 * rather than fastify's default JSON. The connection is closed after the answer, as fastify does.
 */
export function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  if (!socket.writable) {
    socket.destroy(error);
    return;
  }
  const status = error.code === "HPE_HEADER_OVERFLOW" ? 431 : 400;
  const title = status === 431 ? "Request Header Fields Too Large" : "Bad Request";
  const body = JSON.stringify(problem(status, status === 431 ? "the request line and headers exceed the server's limit" : "the request could not be parsed", { title }));
  socket.end(`HTTP/1.1 ${status} ${title}\r\nConnection: close\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}
