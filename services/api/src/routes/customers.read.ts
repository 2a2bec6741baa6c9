import { z } from "zod";
import type { Queryable } from "@lifecycle/db";
import { Stage } from "@lifecycle/events";
import { encodeCursor, HealthPart, type Customer, type CustomerDetail, type ListPosition, type MergedCustomer } from "./customers.schemas.js";
import { SELECT_ALIAS, SELECT_CUSTOMER, SELECT_CUSTOMER_PAGE, SELECT_SETTLED_HORIZON } from "./customers.sql.js";

// Times arrive as exact text (customers.sql.ts `exact`), money as numeric text.
const CustomerRow = z.object({
  customer_id: z.string(),
  stage: Stage.nullable(),
  stage_reason: z.string().nullable(),
  stage_since: z.string().nullable(),
  historical_clv: z.string(),
  predicted_clv: z.string().nullable(),
  p_alive: z.number().nullable(),
  expected_purchases: z.number().nullable(),
  expected_spend: z.string().nullable(),
  simple_clv: z.string().nullable(),
  profit_clv: z.string().nullable(),
  clv_cac_ratio: z.number().nullable(),
  clv_lifespan_years: z.number().nullable(),
  clv_lifespan_source: z.enum(["churn", "setting"]).nullable(),
  purchase_count: z.number().int(),
  first_purchase_at: z.string().nullable(),
  last_purchase_at: z.string().nullable(),
  revenue: z.string(),
  refunded: z.string(),
  latest_nps: z.number().nullable(),
  latest_nps_at: z.string().nullable(),
  latest_csat: z.number().nullable(),
  latest_csat_at: z.string().nullable(),
  latest_ces: z.number().nullable(),
  latest_ces_at: z.string().nullable(),
  health_score: z.number().nullable(),
  health_components: z.record(z.string(), HealthPart).nullable(),
  open_tickets: z.number().int(),
  acquisition_channel: z.string().nullable(),
  registered_at: z.string().nullable(),
  updated_at: z.string(),
});
type CustomerRow = z.infer<typeof CustomerRow>;

const score = (value: number | null, at: string | null) => (value !== null && at !== null ? { score: value, at } : null);

function toCustomer(r: CustomerRow): Customer {
  return {
    id: r.customer_id,
    stage: r.stage,
    stageReason: r.stage_reason,
    stageSince: r.stage_since,
    clv: {
      historical: r.historical_clv,
      predicted: r.predicted_clv,
      pAlive: r.p_alive,
      expectedPurchases: r.expected_purchases,
      expectedSpend: r.expected_spend,
      simple: r.simple_clv,
      profit: r.profit_clv,
      clvCacRatio: r.clv_cac_ratio,
      lifespanYears: r.clv_lifespan_years,
      lifespanSource: r.clv_lifespan_source,
    },
    purchaseCount: r.purchase_count,
    firstPurchaseAt: r.first_purchase_at,
    lastPurchaseAt: r.last_purchase_at,
    revenue: r.revenue,
    refunded: r.refunded,
    latest: { nps: score(r.latest_nps, r.latest_nps_at), csat: score(r.latest_csat, r.latest_csat_at), ces: score(r.latest_ces, r.latest_ces_at) },
    health: { score: r.health_score, components: r.health_components ?? {} },
    openTickets: r.open_tickets,
    acquisitionChannel: r.acquisition_channel,
    registeredAt: r.registered_at,
    updatedAt: r.updated_at,
  };
}

const DetailRow = CustomerRow.extend({ aliases: z.array(z.string()) });

/** A customer with the ids that resolve to it; undefined for an id without a customer row (an alias has none). */
export async function findCustomer(db: Queryable, customerId: string): Promise<CustomerDetail | undefined> {
  const [row] = z.array(DetailRow).max(1).parse((await db.query(SELECT_CUSTOMER, [customerId])).rows);
  return row === undefined ? undefined : { ...toCustomer(row), aliases: row.aliases };
}

const AliasRow = z.object({ alias_id: z.string(), customer_id: z.string(), merged_at: z.string() });

/** Where an id merged into (or linked to) another customer points; undefined when it is nobody's alias. */
export async function findAlias(db: Queryable, id: string): Promise<MergedCustomer | undefined> {
  const [row] = z.array(AliasRow).max(1).parse((await db.query(SELECT_ALIAS, [id])).rows);
  return row === undefined ? undefined : { id: row.alias_id, mergedInto: row.customer_id, mergedAt: row.merged_at };
}

/** Before every row: the first page. Ids are never empty, so ("-infinity", "") precedes them all. */
const START: ListPosition = ["-infinity", ""];

/**
 * One page of the CRM sync feed in (updated_at, customer_id) order, after `cursor`. Two
 * statements, in this order: the settled horizon, then the page under a newer snapshot (see
 * SELECT_SETTLED_HORIZON). `nextCursor` is null when nothing settled is left after this page.
 */
export async function customerPage(
  db: Queryable,
  { cursor = START, updatedSince, stage, limit }: { cursor?: ListPosition | undefined; updatedSince?: string | undefined; stage?: Stage | undefined; limit: number },
) {
  const horizon = z.object({ horizon: z.string() }).parse((await db.query(SELECT_SETTLED_HORIZON)).rows[0]).horizon;
  const result = await db.query(SELECT_CUSTOMER_PAGE, [horizon, cursor[0], cursor[1], updatedSince ?? null, stage ?? null, limit + 1]);
  const rows = z.array(CustomerRow).parse(result.rows);
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    items: page.map(toCustomer),
    nextCursor: rows.length > limit && last ? encodeCursor([last.updated_at, last.customer_id]) : null,
  };
}
