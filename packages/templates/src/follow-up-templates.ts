import { Liquid, type Template } from "liquidjs";
import { err, ok, PLAYBOOKS, type PlaybookName, type Result } from "@lifecycle/events";
import { FALLBACK_LOCALE, canonicalLocale, localeChain, withParents } from "./locale-chain.js";
import { DEFAULT_TEMPLATES_DIR, overlayTemplateFiles, readTemplateFiles, TEMPLATE_PARTS, TemplateError, type TemplateFile, type TemplatePart } from "./template-files.js";
import type { TemplateVariables } from "./template-variables.js";

export interface LoadTemplatesOptions {
  /** Your own template files, each replacing the default of the same name (TEMPLATES_DIR). */
  dir?: string | undefined;
  /** For customers without a locale, before {@link FALLBACK_LOCALE}. @defaultValue en */
  defaultLocale?: string | undefined;
}

/** A follow-up as it goes out: subject, plain text and HTML, and the locale its templates were in. */
export interface RenderedMessage {
  locale: string;
  subject: string;
  text: string;
  html: string;
}

/** A template that parsed but failed while rendering (a render or memory limit, a bad filter argument). */
export interface RenderFailure {
  file: string;
  reason: string;
}

type ParsedSet = Record<TemplatePart, { path: string; template: Template[] }>;

/**
 * Liquid, sandboxed: no JavaScript, no file access from a template (`include`/`render` only see
 * an empty in-memory set), an unknown filter is a parse error rather than a silent no-op, and a
 * loop that runs away hits the render and memory limits instead of stalling the worker.
 */
function engine(escapeHtml: boolean): Liquid {
  return new Liquid({
    templates: {},
    strictFilters: true,
    ...(escapeHtml ? { outputEscape: "escape" as const } : {}),
    parseLimit: 1_000_000,
    renderLimit: 2_000,
    memoryLimit: 16_000_000,
  });
}

const tidy: Record<TemplatePart, (s: string) => string> = {
  // A header: one line.
  subject: (s) => s.replace(/\s+/g, " ").trim(),
  text: (s) => s.trim(),
  html: (s) => s.trim(),
};

/** Groups files by playbook and locale; every set needs all three parts (a half-translated set would mix languages). */
function groupSets(files: readonly TemplateFile[]): Map<string, Partial<Record<TemplatePart, TemplateFile>>> {
  const sets = new Map<string, Partial<Record<TemplatePart, TemplateFile>>>();
  for (const f of files) {
    const key = `${f.playbook}/${f.locale}`;
    sets.set(key, { ...sets.get(key), [f.part]: f });
  }
  for (const [key, set] of sets) {
    const missing = TEMPLATE_PARTS.filter((p) => !set[p]);
    const some = Object.values(set)[0];
    if (missing.length > 0) throw new TemplateError(`${some?.path ?? key}: ${key} has no ${missing.join(", ")} template (a locale needs subject, text and html)`);
  }
  return sets;
}

/**
 * Reads and parses every follow-up template once, at start-up: a file that does not parse is a
 * {@link TemplateError} naming it, before the service takes any work. Rendering then only fills
 * in the parsed templates.
 */
export async function loadFollowUpTemplates({ dir, defaultLocale = FALLBACK_LOCALE }: LoadTemplatesOptions = {}) {
  const files = overlayTemplateFiles(await readTemplateFiles(DEFAULT_TEMPLATES_DIR), dir ? await readTemplateFiles(dir) : []);
  const liquid = { text: engine(false), html: engine(true) };
  const parsed = new Map<string, ParsedSet>();
  for (const [key, set] of groupSets(files)) {
    const parse = (part: TemplatePart) => {
      const file = set[part];
      if (!file) throw new TemplateError(`${key}: no ${part} template`);
      try {
        return { path: file.path, template: (part === "html" ? liquid.html : liquid.text).parse(file.source, file.path) };
      } catch (e) {
        throw new TemplateError(`${file.path}: does not parse: ${e instanceof Error ? e.message : String(e)}`);
      }
    };
    parsed.set(key, { subject: parse("subject"), text: parse("text"), html: parse("html") });
  }
  for (const playbook of PLAYBOOKS) {
    if (!parsed.has(`${playbook}/${FALLBACK_LOCALE}`)) throw new TemplateError(`${DEFAULT_TEMPLATES_DIR}/${playbook}: no ${FALLBACK_LOCALE} templates (every playbook needs them)`);
  }
  const known = new Set([...parsed.keys()].map((k) => k.slice(k.indexOf("/") + 1)));

  /** The locale whose templates a customer gets for a playbook: the first of their chain that has a set. */
  const localeFor = (playbook: PlaybookName, locale: string | undefined) =>
    localeChain(locale, defaultLocale).find((l) => parsed.has(`${playbook}/${l}`)) ?? FALLBACK_LOCALE;

  return {
    localeFor,
    /** Whether any playbook has templates in this locale or one of its parents (`de-AT`: `de-AT` or `de`). */
    knowsLocale(tag: string): boolean {
      const canonical = canonicalLocale(tag);
      return canonical !== undefined && withParents(canonical).some((l) => known.has(l));
    },
    /** Renders subject, text and HTML in the customer's best locale. */
    async render(playbook: PlaybookName, locale: string | undefined, variables: TemplateVariables): Promise<Result<RenderedMessage, RenderFailure>> {
      const chosen = localeFor(playbook, locale);
      const set = parsed.get(`${playbook}/${chosen}`);
      if (!set) return err({ file: `${playbook}/${chosen}`, reason: "no templates" });
      const scope = { ...variables, locale: chosen };
      const out: Partial<Record<TemplatePart, string>> = {};
      for (const part of TEMPLATE_PARTS) {
        try {
          const rendered: unknown = await (part === "html" ? liquid.html : liquid.text).render(set[part].template, scope);
          out[part] = tidy[part](String(rendered));
        } catch (e) {
          return err({ file: set[part].path, reason: e instanceof Error ? e.message : String(e) });
        }
      }
      return ok({ locale: chosen, subject: out.subject ?? "", text: out.text ?? "", html: out.html ?? "" });
    },
  };
}

export type FollowUpTemplates = Awaited<ReturnType<typeof loadFollowUpTemplates>>;
