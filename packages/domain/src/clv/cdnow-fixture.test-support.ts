// Test-only loader for the CDNOW files in shared/data/cdnow (IO is allowed in tests, not in the
// models). Not exported from the package.

import { readFileSync } from "node:fs";

import { rfmSummary, utcDay, type Purchase, type RfmSummary } from "./rfm-summary.js";

// This file is packages/domain/src/clv/…; five levels up is the directory that holds shared/.
const DATA_DIR = new URL("../../../../../shared/data/cdnow/", import.meta.url);

/** Calibration end of every published CDNOW table: week 39, 1997-09-30. */
export const CALIBRATION_END = new Date(Date.UTC(1997, 8, 30));

export type CdnowCustomer = RfmSummary & { id: string };

function parseDate(yyyymmdd: string): Date {
  const [y, m, d] = [yyyymmdd.slice(0, 4), yyyymmdd.slice(4, 6), yyyymmdd.slice(6, 8)].map(Number);
  return new Date(Date.UTC(y ?? Number.NaN, (m ?? Number.NaN) - 1, d ?? Number.NaN));
}

// Columns are whitespace-separated; `idColumn` picks the customer id and the date follows it.
function loadPurchases(file: string, idColumn: number): Map<string, Purchase[]> {
  const byCustomer = new Map<string, Purchase[]>();
  for (const line of readFileSync(new URL(file, DATA_DIR), "utf8").split(/\r?\n/)) {
    const fields = line.trim().split(/\s+/);
    const [id, date, amount] = [fields[idColumn], fields[idColumn + 1], fields[idColumn + 3]];
    if (id === undefined || date === undefined || amount === undefined || !/^\d{8}$/.test(date)) continue; // header, blank
    const purchases = byCustomer.get(id) ?? [];
    purchases.push({ time: parseDate(date), amount: Number(amount) });
    byCustomer.set(id, purchases);
  }
  return byCustomer;
}

function summarise(byCustomer: Map<string, Purchase[]>, end: Date): CdnowCustomer[] {
  const customers: CdnowCustomer[] = [];
  for (const [id, purchases] of byCustomer) {
    const summary = rfmSummary({ purchases, end });
    if (summary) customers.push({ id: String(Number(id)), ...summary });
  }
  return customers;
}

/** The 1/10 sample (2,357 customers), keyed by the sample id ("1" … "2357"). */
export function loadCdnowSample(end: Date = CALIBRATION_END): CdnowCustomer[] {
  return summarise(loadPurchases("CDNOW_sample.txt", 1), end);
}

/** The full cohort (23,570 customers), keyed by the master id. */
export function loadCdnowMaster(end: Date = CALIBRATION_END): CdnowCustomer[] {
  return summarise(loadPurchases("CDNOW_master.txt", 0), end);
}

/** The end of the sample's data and of the published 39-week holdout: 1998-06-30. */
export const HOLDOUT_END = new Date(Date.UTC(1998, 5, 30));

/**
 * The sample split at the calibration end, for holdout validation: each customer's calibration
 * summary and the times of the holdout's repeat transactions (distinct UTC purchase days after the
 * calibration end, in weeks from it, up to `end`).
 */
export function loadCdnowSampleHoldout(calibrationEnd: Date = CALIBRATION_END, end: Date = HOLDOUT_END): (CdnowCustomer & { holdoutTimes: number[] })[] {
  const [calibrationDay, endDay] = [utcDay(calibrationEnd), utcDay(end)];
  return [...loadPurchases("CDNOW_sample.txt", 1)].flatMap(([id, purchases]) => {
    const summary = rfmSummary({ purchases, end: calibrationEnd });
    if (!summary) return [];
    const days = new Set(purchases.map((p) => utcDay(p.time)).filter((d) => d > calibrationDay && d <= endDay));
    return [{ id: String(Number(id)), ...summary, holdoutTimes: [...days].sort((u, v) => u - v).map((d) => (d - calibrationDay) / 7) }];
  });
}
