// The chaos soak's verdict: every difference between the reference model's customers and the
// stored ones, field by field. Pure. An empty list means Postgres holds exactly the right answer.
import type { EngineSettings } from "@lifecycle/domain";
import { referenceStage, type CustomerFacts } from "./reference-model.js";
import type { StoredCustomer } from "./stored-customers.js";

export interface CustomerViolation {
  customerId: string;
  /** A CustomerFacts field, `stage`, `evaluatedAt`, or `customer` (present on one side only). */
  field: string;
  expected: unknown;
  actual: unknown;
}

/** The compared facts; `customerId` is the key. */
const FACT_FIELDS = [
  "firstSeenAt",
  "registeredAt",
  "cancelledAt",
  "purchaseCount",
  "purchaseDays",
  "firstPurchaseAt",
  "lastPurchaseAt",
  "revenue",
  "refunded",
  "repeatDaySpendMean",
  "historicalClv",
  "ticketsTotal",
  "openTickets",
  "latestNps",
  "latestNpsAt",
  "latestCsat",
  "latestCsatAt",
  "latestCes",
  "latestCesAt",
  "latestDetractorAt",
  "latestLowCsatAt",
  "latestHighCesAt",
  "latestTicketReopenedAt",
  "unansweredTicketsOpenedAt",
] as const satisfies readonly Exclude<keyof CustomerFacts, "customerId">[];

// Both sides are normalised (ISO millisecond strings, 4-decimal amounts): values compare as text.
const same = (a: unknown, b: unknown): boolean => (Array.isArray(a) && Array.isArray(b) ? a.join() === b.join() : a === b);

function compareOne(customerId: string, expected: CustomerFacts, actual: StoredCustomer, settings: EngineSettings): CustomerViolation[] {
  const violations: CustomerViolation[] = FACT_FIELDS.filter((field) => !same(expected[field], actual[field])).map((field) => ({
    customerId,
    field,
    expected: expected[field],
    actual: actual[field],
  }));
  if (actual.evaluatedAt === null) return [...violations, { customerId, field: "evaluatedAt", expected: "a time", actual: null }];
  // The stage at the stored clock: the row's evaluated_at and p_alive_below_at (reference-model.ts, referenceStage).
  const stage = referenceStage(expected, { now: actual.evaluatedAt, pAliveBelowAt: actual.pAliveBelowAt }, settings).stage;
  return stage === actual.stage ? violations : [...violations, { customerId, field: "stage", expected: stage, actual: actual.stage }];
}

/** Every difference, ordered by customer id; a customer on one side only is one `customer` violation. */
export function compareCustomers(reference: ReadonlyMap<string, CustomerFacts>, stored: ReadonlyMap<string, StoredCustomer>, settings: EngineSettings): CustomerViolation[] {
  const ids = [...new Set([...reference.keys(), ...stored.keys()])].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return ids.flatMap((customerId) => {
    const expected = reference.get(customerId);
    const actual = stored.get(customerId);
    if (!expected) return [{ customerId, field: "customer", expected: "absent", actual: "present" }];
    if (!actual) return [{ customerId, field: "customer", expected: "present", actual: "absent" }];
    return compareOne(customerId, expected, actual, settings);
  });
}
