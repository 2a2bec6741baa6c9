import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { buildOpenApiDocument } from "./openapi-document.js";

const committed = fileURLToPath(new URL("../../../docs/openapi.json", import.meta.url));

describe("docs/openapi.json", () => {
  it("is what the API serves at /docs/json (else run `npm run docs:generate`)", async () => {
    expect(existsSync(committed), "docs/openapi.json is missing").toBe(true);
    expect(readFileSync(committed, "utf8")).toBe(await buildOpenApiDocument());
  });
});
