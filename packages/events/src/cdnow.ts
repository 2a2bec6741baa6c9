import type { CloudEventEnvelope } from "./cloud-event.js";

/** One purchase row of the CDNOW files (shared/data/cdnow): master or 1/10 sample layout. */
export interface CdnowRow {
  customerId: string;
  /** YYYYMMDD */
  date: string;
  cds: number;
  dollars: string;
}

/**
 * Parses one line. Master rows are `id date cds dollars`; sample rows carry the sample id after
 * the master id (`id sampleId date cds dollars`). The header and blank lines give undefined.
 */
export function parseCdnowLine(line: string): CdnowRow | undefined {
  const f = line.trim().split(/\s+/);
  if (f.length !== 4 && f.length !== 5) return undefined;
  const [customerId, date, cds, dollars] = f.length === 5 ? [f[0], f[2], f[3], f[4]] : f;
  if (!customerId || !date || !cds || !dollars || !/^\d+$/.test(customerId) || !/^\d{8}$/.test(date)) return undefined;
  return { customerId, date, cds: Number(cds), dollars };
}

/**
 * The `purchase.completed` event for a row. Ids are deterministic (customer, day, and the row's
 * position among that customer's rows on that day), so replaying a file twice is a no-op and
 * the same purchase has the same id in the master and the sample file.
 */
export function cdnowRowToEvent(row: CdnowRow, sameDaySeq: number): CloudEventEnvelope {
  const day = `${row.date.slice(0, 4)}-${row.date.slice(4, 6)}-${row.date.slice(6, 8)}`;
  const id = `cdnow-${row.customerId}-${row.date}-${sameDaySeq}`;
  return {
    specversion: "1.0",
    id,
    source: "cdnow-import",
    type: "purchase.completed",
    subject: row.customerId,
    time: `${day}T00:00:00Z`,
    data: { orderId: id, amount: row.dollars, currency: "USD", items: [{ sku: "cd", quantity: row.cds }] },
  };
}

/** A row-by-row mapper that numbers each row within its (customer, day) in file order. */
export function createCdnowMapper(): (row: CdnowRow) => CloudEventEnvelope {
  const seq = new Map<string, number>();
  return (row) => {
    const key = `${row.customerId}-${row.date}`;
    const n = (seq.get(key) ?? 0) + 1;
    seq.set(key, n);
    return cdnowRowToEvent(row, n);
  };
}

/** All rows to events, numbered as {@link createCdnowMapper} does. */
export function cdnowRowsToEvents(rows: Iterable<CdnowRow>): CloudEventEnvelope[] {
  const toEvent = createCdnowMapper();
  return [...rows].map(toEvent);
}
