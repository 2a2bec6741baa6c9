import { describe, expect, test } from "vitest";
import { classifySqlError, isDatabaseUnavailable } from "./sql-state.js";

const pgError = (code: string, message = "x") => Object.assign(new Error(message), { code });

describe("isDatabaseUnavailable", () => {
  test.each([
    ["a refused connection", Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" })],
    ["a connection cut under the client", new Error("Connection terminated unexpectedly")],
    ["the pool's connect timeout", new Error("timeout exceeded when trying to connect")],
    ["an administrator's shutdown (57P01)", pgError("57P01", "terminating connection due to administrator command")],
    ["a server still starting (57P03)", pgError("57P03", "the database system is starting up")],
    ["a connection failure (08006)", pgError("08006")],
  ])("%s: unavailable", (_, err) => expect(isDatabaseUnavailable(err)).toBe(true));

  test.each([
    ["a statement timeout (57014): the server is up", pgError("57014", "canceling statement due to statement timeout")],
    ["a unique violation", pgError("23505")],
    ["a syntax error in our SQL", pgError("42601")],
    ["a plain bug", new TypeError("undefined is not a function")],
    ["not an error", "ECONNREFUSED"],
  ])("%s: not unavailable", (_, err) => expect(isDatabaseUnavailable(err)).toBe(false));

  test("agrees with classifySqlError on what is transient among server errors", () => {
    expect(classifySqlError(pgError("57P01"))).toBe("transient");
    expect(classifySqlError(pgError("23505"))).toBe("data");
  });
});
