import type { PlaybookName } from "@lifecycle/events";

/** The customer as templates see it: `{{ customer.name }}`, `{{ customer.predictedClv }}` … */
export interface TemplateCustomer {
  id: string;
  name?: string | undefined;
  email?: string | undefined;
  stage?: string | undefined;
  /** Money in the base currency with two decimals, e.g. `"182.50"` ({@link moneyText}; Liquid's math filters take it). */
  historicalClv?: string | undefined;
  predictedClv?: string | undefined;
  healthScore?: number | undefined;
  /** The customer's own BCP 47 locale, when known (the one rendered is the top-level `locale`). */
  locale?: string | undefined;
  timeZone?: string | undefined;
}

/**
 * Money as templates show it: two decimals (`"42.5000"` from Postgres → `"42.50"`). Amounts are
 * below 10^10 with 4 decimals, well inside a double's exact range, so toFixed rounds them right.
 */
export function moneyText(value: string | number | null | undefined): string | undefined {
  if (value === null || value === undefined || value === "") return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n.toFixed(2) : undefined;
}

/** Everything a template can use. Missing values render as nothing; test them with `{% if %}`. */
export interface TemplateVariables {
  customer: TemplateCustomer;
  playbook: PlaybookName;
  /** What caused it, e.g. `order-o1` or `birthday-2027`. */
  trigger: string;
  /** The playbook's details: `orderId`, `ticketId`, a survey's `kind` and `score`, a stage change's `stage` and `reason` … */
  context: Record<string, unknown>;
  /** The signed one-click unsubscribe link: marketing e-mail only, and then the body must show it. */
  unsubscribeUrl?: string | undefined;
}
