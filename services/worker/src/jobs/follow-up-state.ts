import type { Queryable } from "@lifecycle/db";
import type { FollowUpCheckState, StageName } from "@lifecycle/domain";

export interface FollowUpCustomer {
  state: FollowUpCheckState;
  email?: string | undefined;
  name?: string | undefined;
  birthday?: string | undefined;
  /** IANA time zone (customer.registered `timezone`): next year's birthday gift is due at 09:00 there. */
  timeZone?: string | undefined;
  /** BCP 47 (customer.registered `locale`): the language of the follow-up's templates. */
  locale?: string | undefined;
  /** Extra facts for webhook receivers. */
  facts: Record<string, string | number | null>;
  /** The latest erasure of their personal data (DELETE /v1/customers/:id/personal-data), if any. */
  erasedAt?: Date | undefined;
}

interface Row {
  stage: StageName | null;
  email: string | null;
  name: string | null;
  birthday: string | null;
  timezone: string | null;
  locale: string | null;
  latest_nps: number | null;
  latest_nps_at: Date | null;
  latest_csat: number | null;
  latest_csat_at: Date | null;
  latest_ces: number | null;
  latest_ces_at: Date | null;
  historical_clv: string;
  predicted_clv: string | null;
  health_score: number | null;
  ticket_found: boolean;
  first_response_at: Date | null;
  ticket_open: boolean | null;
  erased_at: Date | null;
}

const score = (s: number | null, at: Date | null) => (s !== null && at !== null ? { score: s, at } : undefined);
const opt = <T>(v: T | null) => (v === null ? undefined : v);

/** The customer as it is now, for a follow-up's condition check and its message; undefined if unknown (erased). */
export async function loadFollowUpCustomer(db: Queryable, customerId: string, ticketId: string | undefined): Promise<FollowUpCustomer | undefined> {
  const r = await db.query<Row>(
    `SELECT c.stage, c.email, c.name, to_char(c.birthday, 'YYYY-MM-DD') AS birthday, c.timezone, c.locale,
            c.latest_nps, c.latest_nps_at, c.latest_csat, c.latest_csat_at, c.latest_ces, c.latest_ces_at,
            c.historical_clv::text AS historical_clv, c.predicted_clv::numeric(18, 2)::text AS predicted_clv, c.health_score,
            t.ticket_id IS NOT NULL AS ticket_found, t.first_response_at,
            (t.resolved_at IS NULL OR t.last_reopened_at > t.resolved_at) AS ticket_open,
            (SELECT max(e.erased_at) FROM personal_data_erasures e WHERE e.customer_id = c.customer_id) AS erased_at
       FROM customers c
       LEFT JOIN tickets t ON t.customer_id = c.customer_id AND t.ticket_id = $2
      WHERE c.customer_id = $1`,
    [customerId, ticketId ?? null],
  );
  const row = r.rows[0];
  if (!row) return undefined;
  return {
    state: {
      stage: opt(row.stage),
      latestNps: score(row.latest_nps, row.latest_nps_at),
      latestCsat: score(row.latest_csat, row.latest_csat_at),
      latestCes: score(row.latest_ces, row.latest_ces_at),
      ticket: row.ticket_found ? { firstResponseAt: opt(row.first_response_at), open: row.ticket_open ?? false } : undefined,
    },
    email: opt(row.email),
    name: opt(row.name),
    birthday: opt(row.birthday),
    timeZone: opt(row.timezone),
    locale: opt(row.locale),
    facts: { stage: row.stage, historicalClv: row.historical_clv, predictedClv: row.predicted_clv, healthScore: row.health_score },
    erasedAt: opt(row.erased_at),
  };
}
