import { existsSync, readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { buildContractDocs } from "./contract-docs.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const generated = buildContractDocs();

describe("the committed contract docs", () => {
  it.each(Object.keys(generated))("%s is fresh (else run `npm run docs:generate`)", (path) => {
    expect(existsSync(`${root}${path}`), `${path} is missing`).toBe(true);
    expect(readFileSync(`${root}${path}`, "utf8")).toBe(generated[path]);
  });

  it("has no schema files left over from removed event types", () => {
    const committed = readdirSync(`${root}docs/schemas`).map((f) => `docs/schemas/${f}`);
    expect(committed.sort()).toEqual(Object.keys(generated).filter((p) => p.startsWith("docs/schemas/")).sort());
  });

  it("describes every input topic and both outputs in AsyncAPI 3", () => {
    const doc: unknown = JSON.parse(generated["docs/asyncapi.json"] ?? "{}");
    expect(doc).toMatchObject({ asyncapi: "3.0.0" });
    const { channels } = z.object({ channels: z.record(z.string(), z.object({ address: z.string() })) }).parse(doc);
    const addresses = Object.values(channels).map((c) => c.address);
    expect(addresses.sort()).toEqual(["customer-events", "lifecycle-dlq", "lifecycle-stage-changed", "purchase-events", "support-ticket-events", "survey-events"]);
  });
});
