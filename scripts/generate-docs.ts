// `npm run docs:generate`: writes the contract files generated from the zod schemas
// (docs/schemas/*.schema.json, docs/asyncapi.json). A unit test fails when they are stale.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildContractDocs } from "@lifecycle/events";

const root = fileURLToPath(new URL("../", import.meta.url));
for (const [path, content] of Object.entries(buildContractDocs())) {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), content);
  console.log(`wrote ${path}`);
}
