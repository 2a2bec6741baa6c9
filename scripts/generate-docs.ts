// `npm run docs:generate`: writes the contract files generated from the zod schemas
// (docs/schemas/*.schema.json, docs/asyncapi.json) and the API's OpenAPI document
// (docs/openapi.json). Unit tests fail when they are stale.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildContractDocs } from "@lifecycle/events";
import { buildOpenApiDocument } from "@lifecycle/api/openapi";

const root = fileURLToPath(new URL("../", import.meta.url));
const docs = { ...buildContractDocs(), "docs/openapi.json": await buildOpenApiDocument() };
for (const [path, content] of Object.entries(docs)) {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), content);
  console.log(`wrote ${path}`);
}
