// The chaos soak's answer key (issue 16): from the valid events a run produced, what Postgres must
// hold for each customer, computed without Postgres. Pure: no IO, no clock. It restates the rules
// of docs/CONTRACT.md (sections 1, 3 and 5) and of the fact tables (packages/db/src/facts,
// packages/engine/src/customer-states.sql.ts) in plain code, so a disagreement points at one of
// the two. Money is exact: integer units of 0.0001 as BigInt, never a float.
import { deriveStage, type EngineSettings, type StageFacts, type StageName } from "@lifecycle/domain";
import type { LifecycleEvent } from "@lifecycle/events";

/**
 * One customer's stored facts in a normalised form both sides produce: times as ISO strings to
 * the millisecond (event times have no finer precision in a chaos run), amounts as decimal strings
 * with four decimals ("12.3400", "0.0000"). Optional fields are undefined when nothing set them.
 */
export interface CustomerFacts {
  customerId: string;
  /** The earliest event of any type. */
  firstSeenAt: string;
  /** The earliest registration. */
  registeredAt?: string | undefined;
  /** The latest cancellation. */
  cancelledAt?: string | undefined;
  /** Orders: one per orderId, the earliest (time, id) version of it. */
  purchaseCount: number;
  /** Distinct UTC days with an order. */
  purchaseDays: number;
  firstPurchaseAt?: string | undefined;
  lastPurchaseAt?: string | undefined;
  /** Σ orders' amounts in the base currency (each rounded to 4 places first). */
  revenue: string;
  /** Σ refunds in the base currency: every refund event counts. */
  refunded: string;
  /** z̄: the mean of the repeat days' sums (every UTC day after the first), rounded to 4 places. */
  repeatDaySpendMean: string;
  /** (revenue − refunded) × margin in whole cents, written with 4 decimals as the column holds it. */
  historicalClv: string;
  ticketsTotal: number;
  /** Tickets unresolved, or reopened after their latest resolution. */
  openTickets: number;
  /** Latest answer of each survey kind by (time, id), and the time of the latest one. */
  latestNps?: number | undefined;
  latestNpsAt?: string | undefined;
  latestCsat?: number | undefined;
  latestCsatAt?: string | undefined;
  latestCes?: number | undefined;
  latestCesAt?: string | undefined;
  /** The negative signals the stage looks at (not columns of `customers`: read from the answers and tickets). */
  latestDetractorAt?: string | undefined;
  latestLowCsatAt?: string | undefined;
  latestHighCesAt?: string | undefined;
  latestTicketReopenedAt?: string | undefined;
  /** Opening times of open tickets with an opening and no response, ascending. */
  unansweredTicketsOpenedAt: string[];
}

/** The clock a stored stage was derived at: the row's `evaluated_at` and `p_alive_below_at`. */
export interface StageClock {
  now: Date;
  pAliveBelowAt?: Date | undefined;
}

// ---- exact decimals ---------------------------------------------------------------------------

/** Decimal places of every stored amount. */
const SCALE = 4;
const UNIT = 10n ** BigInt(SCALE);

/** A decimal string (sign, fraction and exponent allowed: String(0.0000001) is "1e-7") as digits × 10^-scale. */
function parseDecimal(text: string): { digits: bigint; scale: number } {
  const m = /^(-?)(\d+)(?:\.(\d*))?(?:e([+-]?\d+))?$/i.exec(text.trim());
  if (!m) throw new RangeError(`not a decimal number: ${text}`);
  const [, sign = "", whole = "", fraction = "", exponent = "0"] = m;
  const scale = fraction.length - Number(exponent);
  const digits = BigInt(`${sign}${whole}${fraction}`);
  return scale >= 0 ? { digits, scale } : { digits: digits * 10n ** BigInt(-scale), scale: 0 };
}

/** n ÷ d rounded half away from zero, as Postgres rounds numeric. */
function divideRounded(n: bigint, d: bigint): bigint {
  const q = n / d;
  const r = n % d;
  const twice = 2n * (r < 0n ? -r : r);
  const absD = d < 0n ? -d : d;
  if (twice < absD) return q;
  return (n < 0n) !== (d < 0n) ? q - 1n : q + 1n;
}

/** `text` × `factor` in units of 0.0001, rounded half away from zero (Postgres's round(x, 4)). */
function unitsTimes(text: string, factor: string): bigint {
  const a = parseDecimal(text);
  const f = parseDecimal(factor);
  const scale = a.scale + f.scale;
  const product = a.digits * f.digits;
  return scale >= SCALE ? divideRounded(product, 10n ** BigInt(scale - SCALE)) : product * 10n ** BigInt(SCALE - scale);
}

/** Units of 0.0001 as the normalised text: "-12.3400". */
function formatUnits(units: bigint): string {
  const sign = units < 0n ? "-" : "";
  const abs = units < 0n ? -units : units;
  return `${sign}${abs / UNIT}.${(abs % UNIT).toString().padStart(SCALE, "0")}`;
}

/**
 * A stored numeric in the normalised form: four decimals ("0" → "0.0000", "12.340000" →
 * "12.3400"). More non-zero decimals than four are kept, never rounded away: a value Postgres
 * should not hold must still show.
 */
export function normalizeAmount(text: string): string {
  let { digits, scale } = parseDecimal(text);
  while (scale > SCALE && digits % 10n === 0n) {
    digits /= 10n;
    scale -= 1;
  }
  if (scale <= SCALE) return formatUnits(digits * 10n ** BigInt(SCALE - scale));
  const sign = digits < 0n ? "-" : "";
  const abs = (digits < 0n ? -digits : digits).toString().padStart(scale + 1, "0");
  return `${sign}${abs.slice(0, -scale)}.${abs.slice(-scale)}`;
}

/** Historical CLV (CONTRACT.md section 5): (revenue − refunds) × margin rounded once to the cent, in units. */
function historicalClvUnits(netUnits: bigint, margin: number): bigint {
  const m = parseDecimal(String(margin));
  // netUnits × m.digits is in 10^-(4 + m.scale); one division to whole cents (10^-2), one rounding.
  const cents = divideRounded(netUnits * m.digits, 10n ** BigInt(SCALE - 2 + m.scale));
  return cents * 100n;
}

// ---- times --------------------------------------------------------------------------------------

export const isoMs = (ms: number): string => new Date(ms).toISOString();
const isoOpt = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : isoMs(ms));
const utcDay = (ms: number): string => isoMs(ms).slice(0, 10);

/** A version of something by its event: which is earlier or later is decided by (time, id). */
interface Stamp {
  time: number;
  id: string;
}
/**
 * (time, id) order. Ids compare as JS strings, which is Postgres's order under a C collation
 * (the product compares them under the database's collation: under en_US, 'a-b' sorts after
 * 'ab'). Only versions sharing a millisecond are ordered by id at all.
 */
const before = (a: Stamp, b: Stamp): boolean => a.time < b.time || (a.time === b.time && a.id < b.id);
const minOpt = (a: number | undefined, b: number): number => (a === undefined ? b : Math.min(a, b));
const maxOpt = (a: number | undefined, b: number): number => (a === undefined ? b : Math.max(a, b));

// ---- one customer's events, folded ---------------------------------------------------------------

interface OrderVersion extends Stamp {
  baseUnits: bigint;
}

/** A ticket's row (tickets.sql.ts): earliest opening and first response, latest resolution and reopening. */
interface TicketRow {
  openedAt?: number;
  firstResponseAt?: number;
  resolvedAt?: number;
  lastReopenedAt?: number;
}

interface Answer extends Stamp {
  score: number;
}

interface Folded {
  firstSeen: number;
  registered?: number;
  cancelled?: number;
  orders: Map<string, OrderVersion>;
  refundedUnits: bigint;
  tickets: Map<string, TicketRow>;
  latest: { nps?: Answer; csat?: Answer; ces?: Answer };
  negative: { detractor?: number; lowCsat?: number; highCes?: number };
}

const emptyFolded = (time: number): Folded => ({ firstSeen: time, orders: new Map(), refundedUnits: 0n, tickets: new Map(), latest: {}, negative: {} });

function rateOf(rates: Readonly<Record<string, string>>, currency: string): string {
  const rate = Object.hasOwn(rates, currency) ? rates[currency] : undefined;
  // Such an event goes to the dead-letter topic (unsupported-currency): it is not a valid event.
  if (rate === undefined) throw new RangeError(`no rate for ${currency}: an event in it is not valid input`);
  return rate;
}

function foldEvent(f: Folded, e: LifecycleEvent, rates: Readonly<Record<string, string>>, rules: EngineSettings["rules"]): void {
  const time = Date.parse(e.time);
  const stamp = { time, id: e.id };
  f.firstSeen = Math.min(f.firstSeen, time);
  switch (e.type) {
    case "customer.registered":
      f.registered = minOpt(f.registered, time);
      return;
    case "customer.cancelled":
      f.cancelled = maxOpt(f.cancelled, time);
      return;
    case "customer.consent.updated":
      return; // Counts for first seen only.
    case "customer.identified":
    case "customer.merged":
      // Identity resolution moves facts between customers: not modelled (the chaos stream has none).
      throw new RangeError(`${e.type} (${e.id}) is outside the reference model`);
    case "purchase.completed": {
      const kept = f.orders.get(e.data.orderId);
      if (!kept || before(stamp, kept)) f.orders.set(e.data.orderId, { ...stamp, baseUnits: unitsTimes(e.data.amount, rateOf(rates, e.data.currency)) });
      return;
    }
    case "purchase.refunded":
      f.refundedUnits += unitsTimes(e.data.amount, rateOf(rates, e.data.currency));
      return;
    case "ticket.opened":
    case "ticket.responded":
    case "ticket.resolved":
    case "ticket.reopened": {
      const t = f.tickets.get(e.data.ticketId) ?? {};
      f.tickets.set(e.data.ticketId, t);
      if (e.type === "ticket.opened") t.openedAt = minOpt(t.openedAt, time);
      else if (e.type === "ticket.responded") t.firstResponseAt = minOpt(t.firstResponseAt, time);
      else if (e.type === "ticket.resolved") t.resolvedAt = maxOpt(t.resolvedAt, time);
      else t.lastReopenedAt = maxOpt(t.lastReopenedAt, time);
      return;
    }
    case "survey.responded": {
      const { kind, score } = e.data;
      const latest = f.latest[kind];
      if (!latest || before(latest, stamp)) f.latest[kind] = { ...stamp, score };
      if (kind === "nps" && score <= rules.detractorMaxScore) f.negative.detractor = maxOpt(f.negative.detractor, time);
      if (kind === "csat" && score <= rules.lowCsatMaxScore) f.negative.lowCsat = maxOpt(f.negative.lowCsat, time);
      if (kind === "ces" && score >= rules.highCesMinScore) f.negative.highCes = maxOpt(f.negative.highCes, time);
      return;
    }
  }
}

/** A ticket is open until resolved, and again after a reopening later than its resolution. */
const isOpen = (t: TicketRow) => t.resolvedAt === undefined || (t.lastReopenedAt !== undefined && t.lastReopenedAt > t.resolvedAt);

function purchaseFacts(orders: Iterable<OrderVersion>) {
  const days = new Map<string, bigint>();
  let first: number | undefined;
  let last: number | undefined;
  let count = 0;
  for (const o of orders) {
    count += 1;
    first = first === undefined ? o.time : Math.min(first, o.time);
    last = maxOpt(last, o.time);
    days.set(utcDay(o.time), (days.get(utcDay(o.time)) ?? 0n) + o.baseUnits);
  }
  const sums = [...days.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, units]) => units);
  const revenueUnits = sums.reduce((s, u) => s + u, 0n);
  // z̄ leaves out the first day: it is the spend of repeat transactions (Gamma-Gamma's input).
  const repeatUnits = revenueUnits - (sums[0] ?? 0n);
  const zbarUnits = sums.length > 1 ? divideRounded(repeatUnits, BigInt(sums.length - 1)) : 0n;
  return { count, days: sums.length, first, last, revenueUnits, zbarUnits };
}

function factsOf(customerId: string, f: Folded, margin: number): CustomerFacts {
  const p = purchaseFacts(f.orders.values());
  const tickets = [...f.tickets.values()];
  const reopened = tickets.reduce<number | undefined>((m, t) => (t.lastReopenedAt === undefined ? m : maxOpt(m, t.lastReopenedAt)), undefined);
  const unanswered = tickets.flatMap((t) => (t.openedAt !== undefined && t.firstResponseAt === undefined && isOpen(t) ? [t.openedAt] : [])).sort((a, b) => a - b);
  return {
    customerId,
    firstSeenAt: isoMs(f.firstSeen),
    registeredAt: isoOpt(f.registered),
    cancelledAt: isoOpt(f.cancelled),
    purchaseCount: p.count,
    purchaseDays: p.days,
    firstPurchaseAt: isoOpt(p.first),
    lastPurchaseAt: isoOpt(p.last),
    revenue: formatUnits(p.revenueUnits),
    refunded: formatUnits(f.refundedUnits),
    repeatDaySpendMean: formatUnits(p.zbarUnits),
    historicalClv: formatUnits(historicalClvUnits(p.revenueUnits - f.refundedUnits, margin)),
    ticketsTotal: tickets.length,
    openTickets: tickets.filter(isOpen).length,
    latestNps: f.latest.nps?.score,
    latestNpsAt: isoOpt(f.latest.nps?.time),
    latestCsat: f.latest.csat?.score,
    latestCsatAt: isoOpt(f.latest.csat?.time),
    latestCes: f.latest.ces?.score,
    latestCesAt: isoOpt(f.latest.ces?.time),
    latestDetractorAt: isoOpt(f.negative.detractor),
    latestLowCsatAt: isoOpt(f.negative.lowCsat),
    latestHighCesAt: isoOpt(f.negative.highCes),
    latestTicketReopenedAt: isoOpt(reopened),
    unansweredTicketsOpenedAt: unanswered.map(isoMs),
  };
}

/**
 * Each customer's facts from the valid events of a run, in any order and with any duplicates:
 * an event id counts once (duplicates in a chaos run are identical copies, so which copy is kept
 * does not matter). `rates`: to the base currency, as the run's FX_RATES.
 */
export function referenceFacts(events: Iterable<LifecycleEvent>, { rates, settings }: { rates: Readonly<Record<string, string>>; settings: EngineSettings }): Map<string, CustomerFacts> {
  const seen = new Set<string>();
  const folded = new Map<string, Folded>();
  for (const e of events) {
    if (seen.has(e.id)) continue;
    seen.add(e.id);
    const time = Date.parse(e.time);
    const f = folded.get(e.subject) ?? emptyFolded(time);
    folded.set(e.subject, f);
    foldEvent(f, e, rates, settings.rules);
  }
  const facts = new Map<string, CustomerFacts>();
  for (const [customerId, f] of [...folded.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    facts.set(customerId, factsOf(customerId, f, settings.clv.margin));
  }
  return facts;
}

const dateOpt = (iso: string | undefined): Date | undefined => (iso === undefined ? undefined : new Date(iso));

/** The facts the stage rules read, as the engine hands them to deriveStage (evaluate-customers.ts). */
export function stageFactsOf(f: CustomerFacts, pAliveBelowAt?: Date): StageFacts {
  return {
    firstSeenAt: new Date(f.firstSeenAt),
    registeredAt: dateOpt(f.registeredAt),
    purchaseCount: f.purchaseCount,
    firstPurchaseAt: dateOpt(f.firstPurchaseAt),
    lastPurchaseAt: dateOpt(f.lastPurchaseAt),
    cancelledAt: dateOpt(f.cancelledAt),
    latestDetractorAt: dateOpt(f.latestDetractorAt),
    latestLowCsatAt: dateOpt(f.latestLowCsatAt),
    latestHighCesAt: dateOpt(f.latestHighCesAt),
    latestTicketReopenedAt: dateOpt(f.latestTicketReopenedAt),
    unansweredTicketsOpenedAt: f.unansweredTicketsOpenedAt.map((t) => new Date(t)),
    pAliveBelowThresholdAt: pAliveBelowAt,
  };
}

/**
 * The stage the facts give at `now` (CONTRACT.md section 2). The stored stage must equal it at the
 * row's `evaluated_at`: decideTransition only ever moves to the derived stage, so the stored one
 * is always the derived one. Its reason is not comparable: a transition back from at-risk or
 * churned is stored as `reactivated`, `signal-expired` or `signal-cleared`, and a kept stage keeps
 * the reason it was entered with, both depending on the batches the events came in.
 */
export function referenceStage(f: CustomerFacts, at: StageClock, settings: EngineSettings): { stage: StageName; reason: string } {
  const d = deriveStage({ facts: stageFactsOf(f, at.pAliveBelowAt), now: at.now, rules: settings.rules });
  return { stage: d.stage, reason: d.reason };
}
