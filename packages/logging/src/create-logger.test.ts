import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger, redactUrl } from "./index.js";

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  return { lines, destination };
}

describe("createLogger", () => {
  it("redacts default and configured secret keys, at the root and one level down", () => {
    const { lines, destination } = capture();
    const log = createLogger({ name: "t", secretKeys: ["DATABASE_URL"], destination });
    log.info({ email: "a@b.c", DATABASE_URL: "postgres://u:pw@h/db", customer: { email: "x@y.z", id: "c1" } }, "hello");
    const line: unknown = JSON.parse(lines[0] ?? "{}");
    expect(line).toMatchObject({ name: "t", msg: "hello", email: "[redacted]", DATABASE_URL: "[redacted]" });
    expect(line).toHaveProperty("customer", { email: "[redacted]", id: "c1" });
  });

  it("strips passwords from connection strings", () => {
    expect(redactUrl("postgres://app:s3cret@db:5432/x")).toBe("postgres://app:redacted@db:5432/x");
    expect(redactUrl("redis://127.0.0.1:6379")).toBe("redis://127.0.0.1:6379");
  });
});
