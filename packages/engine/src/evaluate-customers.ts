import { StageChanged, type OutboxMessage, type Stage } from "@lifecycle/events";
import type { OutboxRepo, Queryable } from "@lifecycle/db";
import { evaluateCustomer, triggersForTransition, type CustomerState, type FollowUpIntent, type EngineSettings, type Evaluation, type FittedModels, type MeasuredChurn, type StageName } from "@lifecycle/domain";
import { writeFollowUps, type TraceOf } from "./follow-up-message.js";
import { INSERT_TRANSITIONS, LOAD_CUSTOMER_STATES, SAVE_EVALUATIONS } from "./customer-states.sql.js";
import { loadAnnualChurn } from "./annual-churn.js";

/** A customer as LOAD_CUSTOMER_STATES returns it: numerics as exact strings, as pg gives them. */
interface StateRow {
  customer_id: string;
  first_seen_at: Date;
  registered_at: Date | null;
  cancelled_at: Date | null;
  acquisition_cost: number | null;
  stage: StageName | null;
  stage_since: Date | null;
  purchase_count: number;
  first_purchase_at: Date | null;
  last_purchase_at: Date | null;
  first_purchase_at_text: string | null;
  last_purchase_at_text: string | null;
  purchase_days: number;
  zbar: string;
  revenue: string;
  refunded: string;
  first_order_event_id: string | null;
  latest_nps: number | null;
  latest_nps_at: string | null;
  latest_csat: number | null;
  latest_csat_at: string | null;
  latest_ces: number | null;
  latest_ces_at: string | null;
  detractor_at: Date | null;
  low_csat_at: Date | null;
  high_ces_at: Date | null;
  tickets_total: number;
  open_tickets: number;
  reopened_at: Date | null;
  unanswered: Date[];
}

interface TransitionRow {
  id: number;
  customer_id: string;
  from_stage: Stage | null;
  to_stage: Stage;
  reason: string;
  event_time: Date;
  clv_snapshot: StageChanged["data"]["clv"];
}

const opt = <T>(v: T | null): T | undefined => (v === null ? undefined : v);
const money = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? null : v.toFixed(4));
const num = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? null : v);

function toState(r: StateRow): CustomerState {
  return {
    customerId: r.customer_id,
    facts: {
      firstSeenAt: r.first_seen_at,
      registeredAt: opt(r.registered_at),
      purchaseCount: r.purchase_count,
      firstPurchaseAt: opt(r.first_purchase_at),
      lastPurchaseAt: opt(r.last_purchase_at),
      cancelledAt: opt(r.cancelled_at),
      latestDetractorAt: opt(r.detractor_at),
      latestLowCsatAt: opt(r.low_csat_at),
      latestHighCesAt: opt(r.high_ces_at),
      latestTicketReopenedAt: opt(r.reopened_at),
      unansweredTicketsOpenedAt: r.unanswered,
    },
    purchaseDays: r.purchase_days,
    repeatDaySpendMean: Number(r.zbar),
    revenue: Number(r.revenue),
    refunded: Number(r.refunded),
    acquisitionCost: opt(r.acquisition_cost),
    latestNps: opt(r.latest_nps),
    latestCsat: opt(r.latest_csat),
    latestCes: opt(r.latest_ces),
    openTickets: r.open_tickets,
    current: r.stage && r.stage_since ? { stage: r.stage, since: r.stage_since } : undefined,
  };
}

const clvSnapshot = (e: Evaluation): StageChanged["data"]["clv"] => ({
  historical: e.historicalClv.toFixed(2),
  predicted: e.prediction?.predictedClv === undefined ? null : e.prediction.predictedClv.toFixed(2),
  pAlive: e.prediction ? Math.min(1, Math.max(0, e.prediction.pAlive)) : null,
  expectedPurchases: e.prediction ? Math.max(0, e.prediction.expectedPurchases) : null,
});

/**
 * The CloudEvent announcing a stored transition; its id is stable, so consumers can dedupe. A
 * `traceparent` (not part of the id) continues the trace of the event that caused it.
 */
export function stageChangedEvent(t: TransitionRow, traceparent?: string): StageChanged {
  return StageChanged.parse({
    specversion: "1.0",
    id: `stage-changed-${t.id}`,
    source: "customer-lifecycle",
    type: "lifecycle.stage.changed",
    subject: t.customer_id,
    time: t.event_time.toISOString(),
    datacontenttype: "application/json",
    data: { from: t.from_stage, to: t.to_stage, reason: t.reason, at: t.event_time.toISOString(), clv: t.clv_snapshot },
    traceparent,
  });
}

export interface EvaluateResult {
  evaluated: number;
  transitions: number;
  /** Follow-ups the transitions triggered (win-backs, cross-sells) written to the outbox. */
  followUps: number;
  /** Each evaluated customer's first order (earliest time, then id), for the first-purchase trigger. */
  firstOrders: FirstOrder[];
}

export interface FirstOrder {
  customerId: string;
  eventId: string;
  time: Date;
}

/**
 * Evaluates customers at `now` inside the caller's transaction: loads their state (locking the
 * rows), applies the pure rules, writes stage, CLV and health, stores each transition and its
 * outbox message. Three or four statements whatever the number of customers. `traceOf` (ingest,
 * when events carried a trace) gives each outbox message the trace it continues. `churn` is the
 * base's measured annual churn, as `models` from the caller's cache (createAnnualChurnCache);
 * a caller without one omits it and it is read here, one more statement.
 */
export async function evaluateCustomers({
  tx,
  outbox,
  customerIds,
  now,
  models,
  churn,
  settings,
  traceOf,
}: {
  tx: Queryable;
  outbox: OutboxRepo;
  customerIds: readonly string[];
  now: Date;
  models: FittedModels;
  /** The newest annual churn measurement; null: none stored (or without a rate). Omitted: read in `tx`. */
  churn?: MeasuredChurn | null | undefined;
  settings: EngineSettings;
  traceOf?: TraceOf | undefined;
}): Promise<EvaluateResult> {
  if (customerIds.length === 0) return { evaluated: 0, transitions: 0, followUps: 0, firstOrders: [] };
  const { rules } = settings;
  const rows = (await tx.query<StateRow>(LOAD_CUSTOMER_STATES, [customerIds, rules.detractorMaxScore, rules.lowCsatMaxScore, rules.highCesMinScore])).rows;

  // The base's measured annual churn (the sweep measures it): the simple CLV's lifespan.
  const measured = churn === undefined ? await loadAnnualChurn(tx) : (churn ?? undefined);
  const saves: unknown[] = [];
  const transitions: unknown[] = [];
  const followUps: FollowUpIntent[] = [];
  const firstOrders: FirstOrder[] = [];
  for (const row of rows) {
    if (row.first_order_event_id !== null && row.first_purchase_at !== null) {
      firstOrders.push({ customerId: row.customer_id, eventId: row.first_order_event_id, time: row.first_purchase_at });
    }
    const e = evaluateCustomer({ state: toState(row), now, models, settings, churn: measured });
    const p = e.prediction;
    saves.push({
      customer_id: row.customer_id,
      // The facts recomputed by the load, written back exactly as read.
      purchase_count: row.purchase_count,
      first_purchase_at: row.first_purchase_at_text,
      last_purchase_at: row.last_purchase_at_text,
      revenue: row.revenue,
      purchase_days: row.purchase_days,
      zbar: row.zbar,
      refunded: row.refunded,
      tickets_total: row.tickets_total,
      open_tickets: row.open_tickets,
      latest_nps: row.latest_nps,
      latest_nps_at: row.latest_nps_at,
      latest_csat: row.latest_csat,
      latest_csat_at: row.latest_csat_at,
      latest_ces: row.latest_ces,
      latest_ces_at: row.latest_ces_at,
      stage: e.stage.stage,
      reason: e.stage.reason,
      since: e.stage.since,
      transition_reason: e.transition?.reason ?? null,
      transition_at: e.transition?.at ?? null,
      review_at: e.stage.reviewAt ?? null,
      p_alive: num(p?.pAlive),
      p_alive_below_at: p?.pAliveBelowAt ?? null,
      expected_purchases: num(p?.expectedPurchases),
      expected_spend: money(p?.expectedSpend),
      predicted_clv: money(p?.predictedClv),
      model_id: p?.modelId ?? null,
      // The same value as the stage-changed snapshot below: the one historical CLV (whole cents).
      historical_clv: money(e.historicalClv),
      simple_clv: money(e.simpleClv),
      lifespan_years: num(e.lifespan?.years),
      lifespan_source: e.lifespan?.source ?? null,
      profit_clv: money(e.profitClv),
      clv_cac_ratio: num(e.clvCacRatio),
      health_score: e.health.score,
      health_components: e.health.parts,
      evaluated_at: now,
    });
    if (e.transition) {
      const t = e.transition;
      transitions.push({ customer_id: row.customer_id, from_stage: t.from, to_stage: t.to, reason: t.reason, event_time: t.at, clv_snapshot: clvSnapshot(e) });
      followUps.push(...triggersForTransition({ customerId: row.customer_id, transition: t, settings: settings.playbooks }));
    }
  }
  await tx.query(SAVE_EVALUATIONS, [JSON.stringify(saves)]);
  if (transitions.length) {
    const stored = (await tx.query<TransitionRow>(INSERT_TRANSITIONS, [JSON.stringify(transitions)])).rows;
    await outbox.add(
      stored.map((t): OutboxMessage => ({ kind: "stage-changed", dedupeKey: `stage-changed|${t.id}`, payload: stageChangedEvent(t, traceOf?.(t.customer_id)) })),
      tx,
    );
  }
  const queued = await writeFollowUps(tx, { outbox, intents: followUps, now, traceOf });
  return { evaluated: rows.length, transitions: transitions.length, followUps: queued, firstOrders };
}
