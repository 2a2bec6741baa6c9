/**
 * Customer-experience measures over any period [from, to), overall and by segment
 * (CONTRACT.md section 3). Definitions:
 *
 * - Segments. `groupBy: "stage"` groups by the customer's *current* stage (`customers.stage`),
 *   `"channel"` by `customers.acquisition_channel`; a customer without one is in `(none)`. The
 *   overall group (key null) always comes first; a segment is listed when any measure has a row
 *   for it. Rows are attributed to the segment of the customer they belong to.
 * - NPS, CSAT %, CES: survey responses with event time in [from, to). NPS = % promoters (9–10)
 *   − % detractors (0–6); CSAT % = responses of 4 or 5 ÷ all CSAT responses × 100; CES = Σ
 *   scores ÷ CES responses. Each comes with its response counts.
 * - Churn rate % = lost ÷ active at start × 100. Active at start: the customer's stage at `from`
 *   (the latest stage change with event time < from, ties by record order) is new, repeat or
 *   at-risk. Lost: of those, the ones with a change to churned (by inactivity or cancellation)
 *   with event time in [from, to), counted once even if they churned, came back and churned again.
 * - Referral rate % = new customers who came by referral ÷ new customers × 100. New: first
 *   purchase in [from, to). By referral: registered with `referredBy`, or their earliest order
 *   (by event time, then event id) carries a `referralCode`.
 * - First response (tickets opened in [from, to)): median and p90 of minutes from opening to the
 *   first `ticket.responded` (continuous percentiles, interpolated), over the tickets answered.
 *   Share within target % = answered within `responseTargetMinutes` (inclusive: exactly 2 h is
 *   in time) ÷ judged × 100, where judged = answered tickets, plus unanswered unresolved tickets
 *   already past the target at `to` (they missed it whatever happens next). Not judged: tickets
 *   still inside their target at `to`, and tickets resolved without any response (no reply to
 *   time, as help desks report them). Responses are counted whenever they came, so a past
 *   period's figures settle once its tickets are answered.
 * - First-contact resolution % = tickets resolved in [from, to) with `contacts` = 1 ÷ tickets
 *   resolved in [from, to) with `contacts` given × 100. A ticket reopened after its latest
 *   resolution is open again, so it is left out.
 * - Repeat-purchase rate % = customers with 2 or more orders with event time before `to` ÷
 *   customers with a first purchase before `to` × 100.
 * - Average CLV: over customers with a purchase before `to`, the mean historical CLV (purchases −
 *   refunds) and the mean predicted CLV of those who have one; decimal strings to the cent. These
 *   are the customers' current values: a prediction cannot be rebuilt for a past date, and both
 *   means should describe the same moment.
 *
 * - Per acquisition channel (`groupBy: "channel"` only, as `channels`): CLV, CAC and CLV:CAC with
 *   the 3:1 flag; definitions in channel-economics.ts.
 *
 * Every ratio is null when its denominator is 0 (no data is not 0%). Nothing is rounded except
 * the CLV amounts: presentation rounds.
 */
import { z } from "zod";
import type { Queryable } from "@lifecycle/db";
import {
  CSAT_SATISFIED_MIN,
  NPS_DETRACTOR_MAX,
  NPS_PROMOTER_MIN,
  cesAverage,
  churnRatePercent,
  csatPercent,
  firstContactResolutionPercent,
  npsScore,
  referralRatePercent,
  repeatPurchaseRatePercent,
  shareWithinTargetPercent,
} from "@lifecycle/domain";
import { channelEconomics, type ChannelEconomics } from "./channel-economics.js";
import { CHURN_COUNTS, CUSTOMER_COUNTS, SUPPORT_COUNTS, SURVEY_COUNTS } from "./measures.sql.js";
import { CustomerRow, ChurnRow, EMPTY, SupportRow, SurveyRow, loadFamily, sortKeys, type FamilyRows } from "./measures-rows.js";

export const MeasuresQuery = z
  .strictObject({
    from: z.date().describe("Start of the period, inclusive"),
    to: z.date().describe("End of the period, exclusive"),
    /** Segment the measures by the customer's current stage or acquisition channel; overall only if absent. */
    groupBy: z.enum(["stage", "channel"]).optional(),
    /** First-response target for the share answered in time. @defaultValue 120 */
    responseTargetMinutes: z.number().positive().finite().default(120),
  })
  .refine((q) => q.from.getTime() < q.to.getTime(), { message: "`from` must be before `to`", path: ["to"] });
export type MeasuresQuery = z.infer<typeof MeasuresQuery>;
export type MeasuresGroupBy = NonNullable<MeasuresQuery["groupBy"]>;

/** A query that cannot be answered (bad period or grouping): the caller's mistake, e.g. a 400. */
export class MeasuresQueryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = this.constructor.name;
  }
}

export interface Measures {
  nps: { score: number | null; responses: number; promoters: number; passives: number; detractors: number };
  csat: { percent: number | null; responses: number; satisfied: number };
  ces: { average: number | null; responses: number };
  churn: { ratePercent: number | null; activeAtStart: number; lost: number };
  referral: { ratePercent: number | null; newCustomers: number; referred: number };
  firstResponse: {
    medianMinutes: number | null;
    p90Minutes: number | null;
    /** Tickets opened in the period that got a response (the percentiles' sample). */
    responded: number;
    withinTargetPercent: number | null;
    withinTarget: number;
    /** Answered tickets plus unanswered ones past the target at `to`. */
    judged: number;
  };
  firstContactResolution: { ratePercent: number | null; resolved: number; firstContact: number };
  repeatPurchase: { ratePercent: number | null; customers: number; repeaters: number };
  clv: { customers: number; averageHistorical: string | null; predictedCustomers: number; averagePredicted: string | null };
}

export interface MeasuresGroup {
  /** null for the overall group; otherwise the stage or channel, `(none)` when the customer has none. */
  key: string | null;
  measures: Measures;
}

export interface MeasuresReport {
  from: Date;
  to: Date;
  groupBy: MeasuresGroupBy | null;
  responseTargetMinutes: number;
  groups: MeasuresGroup[];
  /** With `groupBy: "channel"`: each channel's CLV, CAC and CLV:CAC; null otherwise. */
  channels: ChannelEconomics[] | null;
}

/** The experience measures over [from, to), overall and (with `groupBy`) per segment. Four statements, five by channel. */
export async function computeMeasures({ db, ...input }: { db: Queryable } & z.input<typeof MeasuresQuery>): Promise<MeasuresReport> {
  const parsed = MeasuresQuery.safeParse(input);
  if (!parsed.success) throw new MeasuresQueryError(`invalid measures query:\n${z.prettifyError(parsed.error)}`);
  const { from, to, groupBy, responseTargetMinutes } = parsed.data;
  const period = [from, to, groupBy ?? null];
  const [surveys, churn, support, customers, channels] = await Promise.all([
    loadFamily(db, SURVEY_COUNTS, [...period, NPS_PROMOTER_MIN, NPS_DETRACTOR_MAX, CSAT_SATISFIED_MIN], SurveyRow),
    loadFamily(db, CHURN_COUNTS, period, ChurnRow),
    loadFamily(db, SUPPORT_COUNTS, [...period, responseTargetMinutes], SupportRow),
    loadFamily(db, CUSTOMER_COUNTS, period, CustomerRow),
    groupBy === "channel" ? channelEconomics(db, { from, to }) : null,
  ]);
  const keys = sortKeys(groupBy, [surveys, churn, support, customers]);
  const groups = keys.map((key) => ({ key, measures: toMeasures({ surveys, churn, support, customers }, key) }));
  return { from, to, groupBy: groupBy ?? null, responseTargetMinutes, groups, channels };
}

interface Families {
  surveys: FamilyRows<SurveyRow>;
  churn: FamilyRows<ChurnRow>;
  support: FamilyRows<SupportRow>;
  customers: FamilyRows<CustomerRow>;
}

/** One segment's measures: the formulas applied to its counts (zero counts where a family has no row). */
function toMeasures(f: Families, key: string | null): Measures {
  const s = f.surveys.get(key) ?? EMPTY.survey;
  const ch = f.churn.get(key) ?? EMPTY.churn;
  const t = f.support.get(key) ?? EMPTY.support;
  const c = f.customers.get(key) ?? EMPTY.customer;
  const nps = { responses: s.nps_responses, promoters: s.nps_promoters, detractors: s.nps_detractors };
  const judged = t.responded + t.overdue_unanswered;
  return {
    nps: { score: npsScore(nps), ...nps, passives: nps.responses - nps.promoters - nps.detractors },
    csat: { percent: csatPercent({ responses: s.csat_responses, satisfied: s.csat_satisfied }), responses: s.csat_responses, satisfied: s.csat_satisfied },
    ces: { average: cesAverage({ responses: s.ces_responses, sum: s.ces_sum }), responses: s.ces_responses },
    churn: { ratePercent: churnRatePercent({ lost: ch.lost, activeAtStart: ch.active_at_start }), activeAtStart: ch.active_at_start, lost: ch.lost },
    referral: { ratePercent: referralRatePercent({ referred: c.referred, newCustomers: c.new_customers }), newCustomers: c.new_customers, referred: c.referred },
    firstResponse: {
      medianMinutes: t.response_median_minutes,
      p90Minutes: t.response_p90_minutes,
      responded: t.responded,
      withinTargetPercent: shareWithinTargetPercent({ withinTarget: t.within_target, judged }),
      withinTarget: t.within_target,
      judged,
    },
    firstContactResolution: { ratePercent: firstContactResolutionPercent({ firstContact: t.first_contact, resolved: t.resolved }), resolved: t.resolved, firstContact: t.first_contact },
    repeatPurchase: { ratePercent: repeatPurchaseRatePercent({ repeaters: c.repeat_buyers, customers: c.buyers }), customers: c.buyers, repeaters: c.repeat_buyers },
    clv: { customers: c.buyers, averageHistorical: c.avg_historical_clv, predictedCustomers: c.predicted, averagePredicted: c.avg_predicted_clv },
  };
}
