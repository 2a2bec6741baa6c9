import fc from "fast-check";
import { LifecycleEvent } from "../schemas/events.js";

// Valid lifecycle events for property tests. They live beside the schemas (not in testkit) so the
// decoder's own fuzz test can use them: packages/events imports no other workspace. Testkit builds
// its histories from these.

// Small domains on purpose: few customers, orders, tickets and instants, so that generated
// histories collide (one order id under two event ids, equal event times, a ticket resolved and
// reopened at the same instant) and the merge rules are exercised, not just the happy path.
export const arbitraryCustomerId = fc.constantFrom("c1", "c2", "c3");
export const arbitraryEventTime = fc.integer({ min: 0, max: 11 }).map((h) => `2026-03-01T${String(h).padStart(2, "0")}:00:00Z`);
const orderId = fc.constantFrom("o1", "o2", "o3");
const ticketId = fc.constantFrom("t1", "t2");
const money = fc.integer({ min: 0, max: 50_000 }).map((c) => (c / 100).toFixed(2));

/** An event's `type` and matching `data`, every type the service knows. Purchases and ticket events weigh more: their merges across batches are the subtle ones. */
export const arbitraryTypedData = fc.oneof(
  fc.record({ type: fc.constant("customer.registered" as const), data: fc.record({ email: fc.constantFrom("a@x.io", "b@x.io"), acquisitionChannel: fc.constantFrom("ads", "seo"), timezone: fc.constantFrom("Europe/Berlin", "America/New_York"), locale: fc.constantFrom("de-AT", "en") }) }),
  fc.record({
    type: fc.constant("customer.consent.updated" as const),
    data: fc.oneof(
      fc.record({ channel: fc.constantFrom("email" as const, "webhook" as const), status: fc.constantFrom("granted" as const, "withdrawn" as const), source: fc.constantFrom("preference-centre", "one-click-unsubscribe") }),
      fc.record({ channel: fc.constant("email" as const), status: fc.constant("suppressed" as const), source: fc.constantFrom("hard-bounce", "complaint") }),
    ),
  }),
  fc.record({ type: fc.constant("customer.cancelled" as const), data: fc.record({ reason: fc.constantFrom("price", "moved") }) }),
  { weight: 4, arbitrary: fc.record({ type: fc.constant("purchase.completed" as const), data: fc.record({ orderId, amount: money, currency: fc.constantFrom("USD", "EUR") }) }) },
  fc.record({ type: fc.constant("purchase.refunded" as const), data: fc.record({ orderId, amount: money, currency: fc.constant("USD") }) }),
  fc.record({ type: fc.constant("ticket.opened" as const), data: fc.record({ ticketId, channel: fc.constantFrom("email" as const, "chat" as const) }) }),
  fc.record({ type: fc.constant("ticket.responded" as const), data: fc.record({ ticketId, by: fc.constantFrom("agent" as const, "bot" as const) }) }),
  fc.record({ type: fc.constant("ticket.resolved" as const), data: fc.record({ ticketId, contacts: fc.integer({ min: 1, max: 4 }) }) }),
  fc.record({ type: fc.constant("ticket.reopened" as const), data: fc.record({ ticketId }) }),
  fc.record({
    type: fc.constant("survey.responded" as const),
    data: fc.oneof(
      fc.record({ kind: fc.constant("nps" as const), score: fc.integer({ min: 0, max: 10 }) }),
      fc.record({ kind: fc.constant("csat" as const), score: fc.integer({ min: 1, max: 5 }) }),
      fc.record({ kind: fc.constant("ces" as const), score: fc.integer({ min: 1, max: 7 }) }),
    ),
  }),
);

/** One valid event with the given id; parsed, not asserted: it must pass the real schema. */
export const validEvent = (id: string, subject: string, time: string, typed: { type: string; data: unknown }): LifecycleEvent =>
  LifecycleEvent.parse({ specversion: "1.0", id, source: "prop", subject, time, ...typed });

/** A single valid lifecycle event (its id is drawn too). */
export const arbitraryEvent = fc
  .tuple(fc.stringMatching(/^[a-z0-9-]{1,16}$/), arbitraryCustomerId, arbitraryEventTime, arbitraryTypedData)
  .map(([id, subject, time, typed]) => validEvent(id, subject, time, typed));

// ---- near-valid events: one field removed or replaced -----------------------------------------

/** What was done to a valid event: the field at `path` removed, or replaced by `value`. */
export type Mutation = { path: string[]; kind: "remove" } | { path: string[]; kind: "replace"; value: unknown };

/** Every path to a value in a JSON object (the object itself excluded). */
function pathsIn(value: unknown, prefix: string[] = []): string[][] {
  if (typeof value !== "object" || value === null) return [];
  return Object.entries(value).flatMap(([k, v]) => [[...prefix, k], ...pathsIn(v, [...prefix, k])]);
}

/** A copy of `value` with the field at `path` removed or replaced. */
function mutate(value: unknown, path: readonly string[], m: Mutation): unknown {
  const [head, ...rest] = path;
  if (head === undefined || typeof value !== "object" || value === null) return value;
  const entries: [string, unknown][] = Object.entries(value);
  return Object.fromEntries(
    entries.flatMap(([k, v]): [string, unknown][] => {
      if (k !== head) return [[k, v]];
      if (rest.length > 0) return [[k, mutate(v, rest, m)]];
      return m.kind === "replace" ? [[k, m.value]] : [];
    }),
  );
}

/**
 * A value for a field: another JSON type, any UTF-16 string (lone surrogates, U+0000), an empty or
 * huge string, a bad number, a currency without a usual rate, a future or impossible time.
 */
const replacement = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.constantFrom("", " ", "\u0000", "\uD800", "x".repeat(10_000), "JPY", "9999-12-31T23:59:59Z", "2025-02-29T10:00:00Z", -1, 1e300, Number.MAX_SAFE_INTEGER, 0.5, null, true, [], {}),
);

/** A valid event with one field removed or replaced: `event` is the result, `mutation` says what changed. */
export const arbitraryNearValidEvent = arbitraryEvent.chain((valid) => {
  const paths = pathsIn(valid);
  return fc
    .oneof(
      fc.record({ path: fc.constantFrom(...paths), kind: fc.constant("remove" as const) }),
      fc.record({ path: fc.constantFrom(...paths), kind: fc.constant("replace" as const), value: replacement }),
    )
    .map((mutation: Mutation) => ({ event: mutate(valid, mutation.path, mutation), mutation }));
});
