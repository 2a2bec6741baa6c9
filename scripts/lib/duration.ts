const UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "30d", "12h", "90m" → milliseconds; undefined for anything else (the CLI says what it takes). */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d+)([mhd])$/.exec(text.trim());
  const unit = m?.[2] ? UNITS[m[2]] : undefined;
  return m?.[1] && unit ? Number(m[1]) * unit : undefined;
}
