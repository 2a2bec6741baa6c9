/** A count or rate as the bench prints it: rounded, with thousands separators. */
export const fmt = (x: number) => (Number.isFinite(x) ? Math.round(x).toLocaleString("en-US") : "n/a");

/** Bytes in MiB, as "12.3 MB". */
export const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MB`;
