import { readdir, readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { PlaybookName, PLAYBOOKS } from "@lifecycle/events";
import { canonicalLocale } from "./locale-chain.js";

/**
 * The shipped templates. Resolved through the package's own package.json (not relative to this
 * file), so the esbuild bundles find them too: the runtime tree keeps packages/templates/templates.
 */
export const DEFAULT_TEMPLATES_DIR = join(dirname(createRequire(import.meta.url).resolve("@lifecycle/templates/package.json")), "templates");

export const TEMPLATE_PARTS = ["subject", "text", "html"] as const;
export type TemplatePart = (typeof TEMPLATE_PARTS)[number];

/** One template file: `<dir>/<playbook>/<locale>.<part>.liquid`. */
export interface TemplateFile {
  playbook: PlaybookName;
  /** Canonical BCP 47 (`de-AT`), whatever case the file name used. */
  locale: string;
  part: TemplatePart;
  path: string;
  source: string;
}

/** A template set that cannot be used: a start-up error that names the file. */
export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TemplateError";
  }
}

const FILE_NAME = /^([A-Za-z0-9-]+)\.(subject|text|html)\.liquid$/;

async function entries(dir: string) {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch (err) {
    throw new TemplateError(`cannot read the template directory ${dir}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/**
 * Every template file under `dir`. Anything that does not fit the layout (an unknown playbook
 * folder, a name that is not `<locale>.<part>.liquid`) is an error rather than silently unused:
 * a typo in an override would otherwise send the default without a word.
 */
export async function readTemplateFiles(dir: string): Promise<TemplateFile[]> {
  const files: TemplateFile[] = [];
  for (const folder of await entries(dir)) {
    if (folder.name.startsWith(".")) continue;
    const folderPath = join(dir, folder.name);
    const playbook = PlaybookName.safeParse(folder.name);
    if (!folder.isDirectory() || !playbook.success) throw new TemplateError(`${folderPath}: not a playbook folder (one of ${PLAYBOOKS.join(", ")})`);
    for (const file of await entries(folderPath)) {
      if (file.name.startsWith(".")) continue;
      const path = join(folderPath, file.name);
      const match = FILE_NAME.exec(file.name);
      const locale = match?.[1] === undefined ? undefined : canonicalLocale(match[1]);
      const part = TEMPLATE_PARTS.find((p) => p === match?.[2]);
      if (!file.isFile() || !locale || !part) throw new TemplateError(`${path}: not <locale>.<subject|text|html>.liquid with a BCP 47 locale`);
      files.push({ playbook: playbook.data, locale, part, path, source: await readFile(path, "utf8") });
    }
  }
  return files;
}

export const templateKey = (f: Pick<TemplateFile, "playbook" | "locale" | "part">) => `${f.playbook}/${f.locale}.${f.part}`;

/** The defaults with each overriding file in place of the default of the same name (file by file). */
export function overlayTemplateFiles(defaults: readonly TemplateFile[], overrides: readonly TemplateFile[]): TemplateFile[] {
  const byKey = new Map(defaults.map((f) => [templateKey(f), f]));
  for (const f of overrides) byKey.set(templateKey(f), f);
  return [...byKey.values()];
}
