// What Postgres holds for each customer, in the reference model's shape (reference-model.ts), so
// the chaos soak can compare the two field by field. The facts are the `customers` columns the
// engine wrote with its last evaluation; the negative signals the stage reads are not columns
// there, so they are read from the rows they come from (survey answers, tickets).
import { TICKET_IS_OPEN, type Queryable } from "@lifecycle/db";
import type { EngineSettings } from "@lifecycle/domain";
import { isoMs, normalizeAmount, type CustomerFacts } from "./reference-model.js";

/** A stored customer: its facts, its stage and the clock that stage was derived at. */
export interface StoredCustomer extends CustomerFacts {
  stage: string | null;
  /** The clock's "now" at the last evaluation; null if the row was never evaluated. */
  evaluatedAt: Date | null;
  /** When P(alive) falls below the threshold (a fitted model); undefined without one. */
  pAliveBelowAt?: Date | undefined;
}

interface Row {
  customer_id: string;
  first_seen_at: Date;
  registered_at: Date | null;
  cancelled_at: Date | null;
  purchase_count: number;
  purchase_days: number;
  first_purchase_at: Date | null;
  last_purchase_at: Date | null;
  revenue: string;
  refunded: string;
  repeat_day_spend_mean: string;
  historical_clv: string;
  tickets_total: number;
  open_tickets: number;
  latest_nps: number | null;
  latest_nps_at: Date | null;
  latest_csat: number | null;
  latest_csat_at: Date | null;
  latest_ces: number | null;
  latest_ces_at: Date | null;
  detractor_at: Date | null;
  low_csat_at: Date | null;
  high_ces_at: Date | null;
  reopened_at: Date | null;
  unanswered: Date[];
  stage: string | null;
  evaluated_at: Date | null;
  p_alive_below_at: Date | null;
}

// Numerics as text: pg would give strings anyway, this keeps them exact by construction.
// $1 customer ids or null for all; $2 NPS detractor max; $3 low CSAT max; $4 high CES min.
const LOAD_STORED_CUSTOMERS = `
SELECT c.customer_id, c.first_seen_at, c.registered_at, c.cancelled_at,
       c.purchase_count, c.purchase_days, c.first_purchase_at, c.last_purchase_at,
       c.revenue::text AS revenue, c.refunded::text AS refunded,
       c.repeat_day_spend_mean::text AS repeat_day_spend_mean, c.historical_clv::text AS historical_clv,
       c.tickets_total, c.open_tickets,
       c.latest_nps, c.latest_nps_at, c.latest_csat, c.latest_csat_at, c.latest_ces, c.latest_ces_at,
       s.detractor_at, s.low_csat_at, s.high_ces_at,
       t.reopened_at, coalesce(t.unanswered, '{}') AS unanswered,
       c.stage, c.evaluated_at, c.p_alive_below_at
  FROM customers c
  LEFT JOIN (
    SELECT customer_id,
           max(event_time) FILTER (WHERE kind = 'nps' AND score <= $2) AS detractor_at,
           max(event_time) FILTER (WHERE kind = 'csat' AND score <= $3) AS low_csat_at,
           max(event_time) FILTER (WHERE kind = 'ces' AND score >= $4) AS high_ces_at
      FROM survey_responses WHERE $1::text[] IS NULL OR customer_id = ANY($1::text[])
     GROUP BY customer_id) s USING (customer_id)
  LEFT JOIN (
    -- Open as the product reads it (TICKET_IS_OPEN): the stored side, so the product's own rule.
    SELECT customer_id, max(last_reopened_at) AS reopened_at,
           array_agg(opened_at ORDER BY opened_at) FILTER (
             WHERE opened_at IS NOT NULL AND first_response_at IS NULL
               AND ${TICKET_IS_OPEN}) AS unanswered
      FROM tickets WHERE $1::text[] IS NULL OR customer_id = ANY($1::text[])
     GROUP BY customer_id) t USING (customer_id)
 WHERE $1::text[] IS NULL OR c.customer_id = ANY($1::text[])
 ORDER BY c.customer_id
`;

const isoOpt = (d: Date | null): string | undefined => (d === null ? undefined : isoMs(d.getTime()));
const opt = <T>(v: T | null): T | undefined => (v === null ? undefined : v);

function toStored(r: Row): StoredCustomer {
  return {
    customerId: r.customer_id,
    firstSeenAt: isoMs(r.first_seen_at.getTime()),
    registeredAt: isoOpt(r.registered_at),
    cancelledAt: isoOpt(r.cancelled_at),
    purchaseCount: r.purchase_count,
    purchaseDays: r.purchase_days,
    firstPurchaseAt: isoOpt(r.first_purchase_at),
    lastPurchaseAt: isoOpt(r.last_purchase_at),
    revenue: normalizeAmount(r.revenue),
    refunded: normalizeAmount(r.refunded),
    repeatDaySpendMean: normalizeAmount(r.repeat_day_spend_mean),
    historicalClv: normalizeAmount(r.historical_clv),
    ticketsTotal: r.tickets_total,
    openTickets: r.open_tickets,
    latestNps: opt(r.latest_nps),
    latestNpsAt: isoOpt(r.latest_nps_at),
    latestCsat: opt(r.latest_csat),
    latestCsatAt: isoOpt(r.latest_csat_at),
    latestCes: opt(r.latest_ces),
    latestCesAt: isoOpt(r.latest_ces_at),
    latestDetractorAt: isoOpt(r.detractor_at),
    latestLowCsatAt: isoOpt(r.low_csat_at),
    latestHighCesAt: isoOpt(r.high_ces_at),
    latestTicketReopenedAt: isoOpt(r.reopened_at),
    unansweredTicketsOpenedAt: r.unanswered.map((d) => isoMs(d.getTime())),
    stage: r.stage,
    evaluatedAt: r.evaluated_at,
    pAliveBelowAt: opt(r.p_alive_below_at),
  };
}

/**
 * The stored customers (all, or those in `customerIds`), by id. `settings`: the run's, for the
 * thresholds that make a survey answer a negative signal.
 */
export async function loadStoredCustomers(db: Queryable, settings: EngineSettings, customerIds?: readonly string[]): Promise<Map<string, StoredCustomer>> {
  const { rules } = settings;
  const rows = (await db.query<Row>(LOAD_STORED_CUSTOMERS, [customerIds ?? null, rules.detractorMaxScore, rules.lowCsatMaxScore, rules.highCesMinScore])).rows;
  return new Map(rows.map((r) => [r.customer_id, toStored(r)]));
}
