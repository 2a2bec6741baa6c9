import type { LifecycleEvent } from "./schemas/events.js";

/** A small, fast, seedable PRNG (mulberry32): the same seed gives the same stream everywhere. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SyntheticOptions {
  seed: number;
  /** Number of distinct customers. */
  customers: number;
  /** Number of events. */
  count: number;
  /** Event times are spread over [start, end). */
  start: Date;
  end: Date;
  /** Prefix of customer and event ids, so several streams never collide. @defaultValue "syn-" */
  prefix?: string;
  /** Source attribute, e.g. "synthetic" so generated events are labelled as such. */
  source?: string;
}

// Mix of event types (weights): mostly purchases, then the support and survey traffic around them.
const MIX: [LifecycleEvent["type"], number][] = [
  ["purchase.completed", 40],
  ["purchase.refunded", 2],
  ["customer.registered", 8],
  ["customer.cancelled", 1],
  ["ticket.opened", 10],
  ["ticket.responded", 10],
  ["ticket.resolved", 8],
  ["ticket.reopened", 1],
  ["survey.responded", 20],
];
const TOTAL = MIX.reduce((s, [, w]) => s + w, 0);

/**
 * A seeded stream of valid lifecycle events (labelled by `source`), for tests, benchmarks and
 * the demo. Ticket events refer to a small set of ticket ids per customer and orders to
 * previously bought ones for refunds, so the stream exercises every merge in the store.
 */
export function* syntheticEvents({ seed, customers, count, start, end, prefix = "syn-", source = "synthetic" }: SyntheticOptions): Generator<LifecycleEvent> {
  const rnd = seededRandom(seed);
  const pick = (n: number) => Math.floor(rnd() * n);
  const span = end.getTime() - start.getTime();
  for (let i = 0; i < count; i++) {
    const c = pick(customers);
    const subject = `${prefix}c${c}`;
    const time = new Date(start.getTime() + pick(span)).toISOString();
    const base = { specversion: "1.0" as const, id: `${prefix}e${i}`, source, subject, time };
    let r = pick(TOTAL);
    const type = MIX.find(([, w]) => (r -= w) < 0)?.[0] ?? "purchase.completed";
    const ticketId = `t${pick(3)}`;
    const orderId = `o${pick(8)}`;
    const amount = (5 + pick(20_000) / 100).toFixed(2);
    switch (type) {
      case "purchase.completed":
        yield { ...base, type, data: { orderId, amount, currency: "USD", channel: pick(2) ? "web" : "app" } };
        break;
      case "purchase.refunded":
        yield { ...base, type, data: { orderId, amount: (pick(500) / 100).toFixed(2), currency: "USD" } };
        break;
      case "customer.registered":
        yield { ...base, type, data: { acquisitionChannel: ["seo", "ads", "referral", "social"][pick(4)] ?? "seo", ...(pick(5) === 0 ? { referredBy: `${prefix}c${pick(customers)}` } : {}) } };
        break;
      case "customer.cancelled":
        yield { ...base, type, data: { reason: "subscription-ended" } };
        break;
      case "customer.consent.updated":
      case "customer.identified":
      case "customer.merged":
        // Not in MIX: adding them would change every seeded stream the tests and bench compare.
        break;
      case "ticket.opened":
        yield { ...base, type, data: { ticketId, channel: (["email", "chat", "phone", "web"] as const)[pick(4)] ?? "email" } };
        break;
      case "ticket.responded":
        yield { ...base, type, data: { ticketId, by: pick(4) ? "agent" : "bot" } };
        break;
      case "ticket.resolved":
        yield { ...base, type, data: { ticketId, contacts: 1 + pick(3) } };
        break;
      case "ticket.reopened":
        yield { ...base, type, data: { ticketId } };
        break;
      case "survey.responded": {
        const k = pick(3);
        const data = k === 0 ? { kind: "nps" as const, score: pick(11) } : k === 1 ? { kind: "csat" as const, score: 1 + pick(5) } : { kind: "ces" as const, score: 1 + pick(7) };
        yield { ...base, type, data };
        break;
      }
    }
  }
}
