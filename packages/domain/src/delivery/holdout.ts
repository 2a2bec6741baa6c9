/**
 * Holdout groups: per playbook, a fixed share of customers gets nothing, so the effect of the
 * playbook can be measured against them. Assignment is a hash of playbook and customer id:
 * deterministic (every process and every replay agrees), independent between playbooks, and
 * stable as long as the share is.
 */

/** FNV-1a, 32 bits, over the UTF-16 code units: small, pure and well spread for ids. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  // A final avalanche (murmur3's fmix32): ids that differ in the last character spread evenly.
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b) >>> 0;
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35) >>> 0;
  hash ^= hash >>> 16;
  return hash >>> 0;
}

/** True when the customer is in the playbook's control group of `share` (0 to 1). */
export function isHeldOut(playbook: string, customerId: string, share: number): boolean {
  if (share <= 0) return false;
  return fnv1a(`${playbook}\u0000${customerId}`) / 2 ** 32 < share;
}

export interface Group {
  customers: number;
  converted: number;
}

export interface Uplift {
  treatedRate: number;
  heldOutRate: number;
  /** treated − held out, in rate points (0.05 = five points). */
  uplift: number;
  /** The interval for the uplift at `confidence`; undefined while a group is empty. */
  low: number | undefined;
  high: number | undefined;
  confidence: number;
}

/** Wilson score interval for one proportion. */
function wilson(x: number, n: number, z: number): [number, number] {
  const p = x / n;
  const denom = 1 + (z * z) / n;
  const centre = p + (z * z) / (2 * n);
  const spread = z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n));
  return [(centre - spread) / denom, (centre + spread) / denom];
}

/** The confidence levels an uplift interval can be asked for. */
export const CONFIDENCE_LEVELS = [0.9, 0.95, 0.99] as const;
export type Confidence = (typeof CONFIDENCE_LEVELS)[number];

const Z: Record<Confidence, number> = { 0.9: 1.6448536269514722, 0.95: 1.959963984540054, 0.99: 2.5758293035489004 };

/**
 * The purchase-rate difference between treated and held-out customers with Newcombe's hybrid
 * score interval (method 10 of Newcombe 1998): well-behaved for small groups and rates near 0,
 * where the textbook Wald interval is not.
 */
export function uplift(treated: Group, heldOut: Group, confidence: Confidence = 0.95): Uplift {
  const rate = (g: Group) => (g.customers ? g.converted / g.customers : 0);
  const p1 = rate(treated);
  const p2 = rate(heldOut);
  const base = { treatedRate: p1, heldOutRate: p2, uplift: p1 - p2, confidence };
  if (treated.customers === 0 || heldOut.customers === 0) return { ...base, low: undefined, high: undefined };
  const z = Z[confidence];
  const [l1, u1] = wilson(treated.converted, treated.customers, z);
  const [l2, u2] = wilson(heldOut.converted, heldOut.customers, z);
  const d = p1 - p2;
  return { ...base, low: d - Math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), high: d + Math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2) };
}
