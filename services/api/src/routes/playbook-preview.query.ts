import { z } from "zod";
import type { Queryable } from "@lifecycle/db";
import { moneyText, type TemplateCustomer } from "@lifecycle/templates";

// Money as numeric text, shown with two decimals (moneyText), as the worker does for what it sends.
const Row = z.object({
  customer_id: z.string(),
  name: z.string().nullable(),
  email: z.string().nullable(),
  stage: z.string().nullable(),
  historical_clv: z.string(),
  predicted_clv: z.string().nullable(),
  health_score: z.number().nullable(),
  locale: z.string().nullable(),
  timezone: z.string().nullable(),
});

const SELECT_TEMPLATE_CUSTOMER = `
SELECT customer_id, name, email, stage, historical_clv::text AS historical_clv,
       predicted_clv::numeric(18, 2)::text AS predicted_clv, health_score, locale, timezone
  FROM customers WHERE customer_id = $1`;

/** The customer as follow-up templates see them now; undefined if unknown. */
export async function findTemplateCustomer(db: Queryable, customerId: string): Promise<TemplateCustomer | undefined> {
  const [row] = z.array(Row).max(1).parse((await db.query(SELECT_TEMPLATE_CUSTOMER, [customerId])).rows);
  if (!row) return undefined;
  const opt = <T>(v: T | null) => v ?? undefined;
  return {
    id: row.customer_id,
    name: opt(row.name),
    email: opt(row.email),
    stage: opt(row.stage),
    historicalClv: moneyText(row.historical_clv),
    predictedClv: moneyText(row.predicted_clv),
    healthScore: opt(row.health_score),
    locale: opt(row.locale),
    timeZone: opt(row.timezone),
  };
}
