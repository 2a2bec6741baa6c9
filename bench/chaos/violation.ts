/** Something the checker found that must not happen, with what shows it. */
export interface Violation {
  check: "events" | "dead-letters" | "customers" | "follow-ups" | "deliveries" | "stage-changes";
  customerId?: string;
  detail: string;
  /** Ids of the produced events that show it (a customer's events, the event concerned). */
  events?: string[];
}

/** The bad input kinds of the stream and the rejection the consumer and the API must give each. */
export const EXPECTED_REJECTION = {
  "broken-json": "not-json",
  "wrong-field": "invalid-data",
  "unknown-type": "unknown-type",
  "unsupported-currency": "unsupported-currency",
} as const;
