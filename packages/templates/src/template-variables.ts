import type { PlaybookName } from "@lifecycle/events";

/** The customer as templates see it: `{{ customer.name }}`, `{{ customer.predictedClv }}` … */
export interface TemplateCustomer {
  id: string;
  name?: string | undefined;
  email?: string | undefined;
  stage?: string | undefined;
  /** Money in the base currency as exact decimal text, e.g. `"182.50"` (Liquid's math filters take it). */
  historicalClv?: string | undefined;
  predictedClv?: string | undefined;
  healthScore?: number | undefined;
  /** The customer's own BCP 47 locale, when known (the one rendered is the top-level `locale`). */
  locale?: string | undefined;
  timeZone?: string | undefined;
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
