/**
 * Unknown-field check for Kubernetes objects: the OpenAPI schemas leave objects open (a misspelled
 * `readinesProbe` passes them and the API server would drop it, or refuse it under strict field
 * validation). The kubernetes-models declarations are generated from the same schemas, so each
 * object is written as a typed literal into an in-memory TypeScript file and type-checked: an
 * unknown field is an excess-property error, a wrong type an assignability error. Nothing is
 * written to disk.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

// Under the repository root, so the in-memory files resolve kubernetes-models from node_modules.
const VIRTUAL_DIR = join(fileURLToPath(new URL("../..", import.meta.url)), ".k8s-unknown-fields");

const OPTIONS: ts.CompilerOptions = {
  strict: true,
  noEmit: true,
  skipLibCheck: true,
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  // No DOM or @types/node: the literals need only the ES library, and it keeps the check fast.
  lib: ["lib.es2022.d.ts"],
  types: [],
};

export interface TypedObject {
  /** The module declaring `I<kind>`, e.g. "kubernetes-models/apps/v1/Deployment". */
  types: string;
  kind: string;
  body: Record<string, unknown>;
}

/** For each object, the fields or values its TypeScript model rejects, with the offending line. */
export function unknownFieldErrors(objects: readonly TypedObject[]): string[][] {
  const files = new Map(
    objects.map((o, i) => [
      join(VIRTUAL_DIR, `object-${i}.ts`),
      `import type { I${o.kind} as Model } from "${o.types}";\nexport const object: Model = ${JSON.stringify(o.body, null, 2)};\n`,
    ]),
  );
  // The in-memory files first, the disk (lib and model declarations) for everything else.
  const disk = ts.createCompilerHost(OPTIONS);
  const host: ts.CompilerHost = {
    ...disk,
    getSourceFile: (name, language, ...rest) => {
      const text = files.get(name);
      return text === undefined ? disk.getSourceFile(name, language, ...rest) : ts.createSourceFile(name, text, language);
    },
    fileExists: (name) => files.has(name) || disk.fileExists(name),
    readFile: (name) => files.get(name) ?? disk.readFile(name),
  };

  const program = ts.createProgram([...files.keys()], OPTIONS, host);
  const names = [...files.keys()];
  const errors = objects.map((): string[] => []);
  for (const d of ts.getPreEmitDiagnostics(program)) {
    const index = d.file ? names.indexOf(d.file.fileName) : -1;
    const message = ts.flattenDiagnosticMessageText(d.messageText, " ");
    if (index < 0 || !d.file || d.start === undefined) {
      // A problem outside the objects (a model that does not resolve) fails every object.
      errors.forEach((e) => e.push(`type check: ${message}`));
      continue;
    }
    const { line } = d.file.getLineAndCharacterOfPosition(d.start);
    const source = d.file.text.split("\n")[line]?.trim() ?? "";
    errors[index]?.push(`${shorten(message)} (at ${shorten(source)})`);
  }
  return errors;
}

// KEDA's models are anonymous object types: TypeScript prints them whole in its messages.
const shorten = (s: string, max = 240) => (s.length > max ? `${s.slice(0, max)}…` : s);
