import { seededRandom, type CdnowRow } from "@lifecycle/events";

/** A CloudEvent as produced (structured JSON). */
export interface DemoEvent {
  specversion: "1.0";
  id: string;
  source: string;
  type: string;
  subject: string;
  time: string;
  data: Record<string, unknown>;
}

const DAY = 86_400_000;
const MINUTE = 60_000;
const dayOf = (yyyymmdd: string) => Date.UTC(Number(yyyymmdd.slice(0, 4)), Number(yyyymmdd.slice(4, 6)) - 1, Number(yyyymmdd.slice(6, 8)));

/**
 * Support tickets and survey answers for the CDNOW customers, which the real data set lacks.
 * **Synthetic**, and labelled so: source `synthetic-demo`, ids `syn-…`. Seeded, so the same ids
 * every run (a second demo run adds nothing). Each follows one of the customer's real purchases:
 * about a third answer an NPS survey, a quarter a CSAT survey, a tenth a CES survey, and a sixth
 * open a ticket, most answered within hours, some past the 2-hour target, a few never. Nothing
 * falls after `end` (the data set's last day).
 */
export function syntheticSupportEvents(rows: readonly CdnowRow[], seed = 7, end = Date.UTC(1998, 5, 30, 23, 59, 59)): DemoEvent[] {
  const random = seededRandom(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] ?? xs[0]!;
  const byCustomer = new Map<string, string[]>();
  for (const r of rows) {
    const days = byCustomer.get(r.customerId) ?? [];
    if (!byCustomer.has(r.customerId)) byCustomer.set(r.customerId, days);
    days.push(r.date);
  }
  const out: DemoEvent[] = [];
  let n = 0;
  // Nothing after the data set's last day: the synthetic events must not move the clock past it.
  const ev = (subject: string, type: string, at: number, data: Record<string, unknown>) =>
    at <= end &&
    out.push({ specversion: "1.0", id: `syn-${subject}-${++n}`, source: "synthetic-demo", type, subject, time: new Date(at).toISOString(), data });
  const npsScores = [10, 10, 9, 9, 9, 8, 8, 7, 7, 6, 5, 4, 3, 10, 9, 8, 2, 0];
  for (const [customer, days] of byCustomer) {
    const after = () => dayOf(pick(days)) + Math.floor((1 + random() * 9) * DAY);
    if (random() < 0.33) ev(customer, "survey.responded", after(), { kind: "nps", score: pick(npsScores) });
    if (random() < 0.25) ev(customer, "survey.responded", after(), { kind: "csat", score: pick([5, 5, 4, 4, 4, 3, 2, 1]) });
    if (random() < 0.1) ev(customer, "survey.responded", after(), { kind: "ces", score: pick([1, 2, 2, 3, 3, 4, 5, 6, 7]) });
    if (random() < 0.16) {
      const ticketId = `syn-t-${customer}`;
      const opened = dayOf(pick(days)) + Math.floor((0.5 + random() * 5) * DAY);
      ev(customer, "ticket.opened", opened, { ticketId, channel: pick(["email", "chat", "phone", "web"]) });
      const roll = random();
      if (roll < 0.95) {
        // Most within the 2-hour target, a quarter later.
        const responded = opened + Math.floor((roll < 0.7 ? 5 + random() * 110 : 130 + random() * 600) * MINUTE);
        ev(customer, "ticket.responded", responded, { ticketId, by: pick(["agent", "agent", "bot"]) });
        ev(customer, "ticket.resolved", responded + Math.floor(random() * 2 * DAY), { ticketId, contacts: pick([1, 1, 1, 2, 3]) });
      }
    }
  }
  return out;
}
