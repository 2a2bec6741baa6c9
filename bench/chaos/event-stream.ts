import { LifecycleEvent, seededRandom, topicForType, type InputTopics } from "@lifecycle/events";

// The chaos run's input: a steady stream of lifecycle events for a few thousand customers, as
// backend systems send them, with what real producers add: re-sent events (the same id and bytes),
// events out of order (times up to `maxLagMs` in the past, so a customer's later event can come
// first), and bad input (broken JSON, wrong fields, unknown types, a currency without a rate).
// The kinds, customers and amounts are drawn from the seed; the times come from the clock.

/** An invalid message and the rejection kind the consumer (or POST /v1/events) must give it. */
export interface BadInput {
  /** Unique in the run; in the message bytes, so its dead letter can be found. */
  id: string;
  what: "broken-json" | "wrong-field" | "unknown-type" | "unsupported-currency";
}

/** A valid event, new or a re-sent copy of an earlier one (the same id and bytes). */
export interface EventItem {
  kind: "valid" | "duplicate";
  via: "kafka" | "http";
  event: LifecycleEvent;
  topic: string;
  key: string;
  value: string;
}
/** Bad input: `value` the bytes sent to Kafka, `body` the JSON item sent over HTTP. */
export interface BadItem {
  kind: "bad";
  via: "kafka" | "http";
  bad: BadInput;
  topic: string;
  key: string;
  value: string;
  body: unknown;
}
export type StreamItem = EventItem | BadItem;

export interface StreamOptions {
  seed: number;
  customers: number;
  /** Customer and event ids start with it (`<prefix>c12`, `<prefix>e345`). */
  prefix: string;
  topics: InputTopics;
  /** How far in the past an event's time may lie. @defaultValue 20000 */
  maxLagMs?: number;
  /** Shares of re-sent, bad and HTTP items. */
  duplicateShare?: number;
  badShare?: number;
  httpShare?: number;
}

// Mostly purchases, then the support and survey traffic around them (as synthetic.ts weighs them).
const MIX: [LifecycleEvent["type"], number][] = [
  ["purchase.completed", 40],
  ["purchase.refunded", 3],
  ["customer.registered", 8],
  ["customer.cancelled", 1],
  ["ticket.opened", 10],
  ["ticket.responded", 9],
  ["ticket.resolved", 7],
  ["ticket.reopened", 2],
  ["survey.responded", 20],
];
const TOTAL = MIX.reduce((s, [, w]) => s + w, 0);
const BAD_KINDS: BadInput["what"][] = ["broken-json", "wrong-field", "unknown-type", "unsupported-currency"];
/** Re-sent events are copies of one of the last this many. */
const RECENT = 500;

export function createEventStream({ seed, customers, prefix, topics, maxLagMs = 20_000, duplicateShare = 0.05, badShare = 0.02, httpShare = 0.1 }: StreamOptions) {
  const rnd = seededRandom(seed);
  const pick = (n: number) => Math.floor(rnd() * n);
  const orders = new Map<number, number>();
  const recent: EventItem[] = [];
  let events = 0;
  let bads = 0;

  const dataFor = (type: LifecycleEvent["type"], c: number): Record<string, unknown> | undefined => {
    const bought = orders.get(c) ?? 0;
    switch (type) {
      case "purchase.completed":
        orders.set(c, bought + 1);
        // Now and then the same order again under a new event id (a checkout's retry): kept once.
        return { orderId: `o${pick(5) === 0 && bought > 0 ? pick(bought) : bought}`, amount: (5 + pick(20_000) / 100).toFixed(2), currency: "USD" };
      case "purchase.refunded":
        return bought > 0 ? { orderId: `o${pick(bought)}`, amount: (pick(500) / 100 + 0.01).toFixed(2), currency: "USD" } : undefined;
      case "customer.registered":
        return { email: `${prefix}c${c}@example.test`, name: `Customer ${c}`, acquisitionChannel: ["seo", "ads", "referral", "social"][pick(4)] ?? "seo" };
      case "customer.cancelled":
        return { reason: "subscription-ended" };
      case "ticket.opened":
        return { ticketId: `t${pick(3)}`, channel: (["email", "chat", "phone", "web"] as const)[pick(4)] ?? "email" };
      case "ticket.responded":
        return { ticketId: `t${pick(3)}`, by: pick(4) ? "agent" : "bot" };
      case "ticket.resolved":
        return { ticketId: `t${pick(3)}`, contacts: 1 + pick(3) };
      case "ticket.reopened":
        return { ticketId: `t${pick(3)}` };
      case "survey.responded": {
        const k = pick(3);
        return k === 0 ? { kind: "nps", score: pick(11) } : k === 1 ? { kind: "csat", score: 1 + pick(5) } : { kind: "ces", score: 1 + pick(7) };
      }
      case "customer.consent.updated":
      case "customer.identified":
      case "customer.merged":
        // Not in the soak's mix: identity has its own tests, and consent only gates marketing.
        return undefined;
    }
  };

  const seen = new Set<number>();
  const validItem = (now: Date): EventItem => {
    for (;;) {
      const c = pick(customers);
      let r = pick(TOTAL);
      // Most customers register first (so e-mail follow-ups have an address); some never do.
      const first = !seen.has(c);
      seen.add(c);
      const type = first && rnd() < 0.7 ? "customer.registered" : (MIX.find(([, w]) => (r -= w) < 0)?.[0] ?? "purchase.completed");
      const data = dataFor(type, c);
      if (!data) continue;
      const subject = `${prefix}c${c}`;
      const event = LifecycleEvent.parse({
        specversion: "1.0",
        id: `${prefix}e${events++}`,
        source: "chaos",
        subject,
        time: new Date(now.getTime() - pick(maxLagMs)).toISOString(),
        type,
        data,
      });
      return { kind: "valid", via: rnd() < httpShare ? "http" : "kafka", event, topic: topicForType(type, topics), key: subject, value: JSON.stringify(event) };
    }
  };

  const badItem = (now: Date): BadItem => {
    const what = BAD_KINDS[pick(BAD_KINDS.length)] ?? "wrong-field";
    const id = `${prefix}bad${bads++}`;
    const subject = `${prefix}c${pick(customers)}`;
    const base = { specversion: "1.0", id, source: "chaos", subject, time: new Date(now.getTime() - pick(maxLagMs)).toISOString() };
    const body =
      what === "unknown-type"
        ? { ...base, type: "purchase.exploded", data: { orderId: "x" } }
        : what === "unsupported-currency"
          ? { ...base, type: "purchase.completed", data: { orderId: "x", amount: "10.00", currency: "CHF" } }
          : { ...base, type: "purchase.completed", data: { orderId: "x", amount: "ten dollars", currency: "USD" } };
    // Broken JSON only through Kafka: over HTTP it would fail the whole request, not one item.
    const broken = what === "broken-json";
    const value = broken ? `{"id":"${id}","specversion":"1.0",` : JSON.stringify(body);
    return { kind: "bad", via: broken ? "kafka" : rnd() < 0.3 ? "http" : "kafka", bad: { id, what }, topic: topics.purchase, key: subject, value, body };
  };

  return {
    /** The next item at `now`. */
    next(now: Date): StreamItem {
      const r = rnd();
      if (r < badShare) return badItem(now);
      if (r < badShare + duplicateShare && recent.length > 0) {
        const copy = recent[pick(recent.length)];
        if (copy) return { ...copy, kind: "duplicate", via: rnd() < httpShare ? "http" : "kafka" };
      }
      const item = validItem(now);
      recent.push(item);
      if (recent.length > RECENT) recent.shift();
      return item;
    },
  };
}
export type EventStream = ReturnType<typeof createEventStream>;
