// U+0000, or a UTF-16 surrogate without its partner (a JSON "\ud800" escape): Postgres refuses
// both in text and jsonb, so an event carrying one would fail its whole batch there.
// eslint-disable-next-line no-control-regex -- U+0000 is exactly what this looks for
const BAD_TEXT = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export const isStorableText = (s: string): boolean => !BAD_TEXT.test(s);

/**
 * The path of the first string (value or object key) in a parsed JSON value that Postgres could
 * not store, or undefined when every string is storable.
 */
export function unstorableTextPath(value: unknown, path: string[] = []): string | undefined {
  if (typeof value === "string") return isStorableText(value) ? undefined : path.join(".") || "(root)";
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = unstorableTextPath(value[i], [...path, String(i)]);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (typeof value === "object" && value !== null) {
    for (const [key, v] of Object.entries(value)) {
      if (!isStorableText(key)) return [...path, JSON.stringify(key)].join(".");
      const found = unstorableTextPath(v, [...path, key]);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}
