/** The locale every playbook ships templates for: the end of every fallback chain. */
export const FALLBACK_LOCALE = "en";

/** `de-at` → `de-AT`; undefined for a tag that is not BCP 47. */
export function canonicalLocale(tag: string): string | undefined {
  try {
    const [canonical] = Intl.getCanonicalLocales(tag);
    return canonical;
  } catch {
    return undefined;
  }
}

/** `zh-Hant-TW` → `zh-Hant-TW`, `zh-Hant`, `zh`: each subtag dropped from the end. */
export function withParents(tag: string): string[] {
  const parts = tag.split("-");
  return parts.map((_, i) => parts.slice(0, parts.length - i).join("-"));
}

/**
 * The locales to try for a customer, most specific first: their own and its parents, then the
 * default locale's, then {@link FALLBACK_LOCALE}. `de-AT` with default `en` → `de-AT`, `de`, `en`.
 * A missing or malformed locale starts at the default.
 */
export function localeChain(locale: string | undefined, defaultLocale: string): string[] {
  const own = locale === undefined ? undefined : canonicalLocale(locale);
  const fallback = canonicalLocale(defaultLocale);
  const chain = [...(own ? withParents(own) : []), ...(fallback ? withParents(fallback) : []), FALLBACK_LOCALE];
  return [...new Set(chain)];
}
