/**
 * A progress line: redrawn in place on a terminal, a line per 10% elsewhere (CI logs).
 * Small enough that a dependency would not pay for itself.
 */
export function createProgress(label: string, total: number | undefined, out: NodeJS.WriteStream = process.stderr) {
  const t0 = Date.now();
  let lastDecile = -1;
  let lastDraw = 0;
  const rate = (n: number) => Math.round(n / Math.max(0.001, (Date.now() - t0) / 1000));
  return {
    update(n: number) {
      const pct = total ? Math.min(100, Math.floor((n / total) * 100)) : undefined;
      if (out.isTTY) {
        if (Date.now() - lastDraw < 100 && n !== total) return;
        lastDraw = Date.now();
        const width = 30;
        const filled = pct === undefined ? 0 : Math.round((pct / 100) * width);
        const bar = pct === undefined ? "" : `[${"#".repeat(filled)}${".".repeat(width - filled)}] ${pct}% `;
        out.write(`\r${label} ${bar}${n.toLocaleString("en-US")} events, ${rate(n).toLocaleString("en-US")}/s   `);
      } else if (pct !== undefined && Math.floor(pct / 10) > lastDecile) {
        lastDecile = Math.floor(pct / 10);
        out.write(`${label} ${pct}% (${n.toLocaleString("en-US")} events, ${rate(n).toLocaleString("en-US")}/s)\n`);
      }
    },
    done(n: number) {
      if (out.isTTY) out.write("\n");
      return { seconds: (Date.now() - t0) / 1000, rate: rate(n) };
    },
  };
}
