import type { Pool } from "@lifecycle/db";
import type { EngineSettings } from "@lifecycle/domain";
import type { LifecycleEvent } from "@lifecycle/events";
import { compareCustomers } from "./compare-customers.js";
import { referenceFacts } from "./reference-model.js";
import { loadStoredCustomers } from "./stored-customers.js";
import type { Violation } from "./violation.js";

// Each customer's facts, historical CLV and stage as Postgres holds them, against the reference
// model's answer from the valid events the run produced (each id once), and nothing else.

/** The most event ids a violation lists (a customer's events, newest last). */
const EVENTS_SHOWN = 30;

export async function checkCustomers({ pool, events, settings, rates }: { pool: Pool; events: readonly LifecycleEvent[]; settings: EngineSettings; rates: Record<string, string> }): Promise<{ compared: number; violations: Violation[] }> {
  const reference = referenceFacts(events, { rates, settings });
  const stored = await loadStoredCustomers(pool, settings);
  const idsOf = new Map<string, string[]>();
  for (const e of [...events].sort((a, b) => a.time.localeCompare(b.time))) idsOf.set(e.subject, [...(idsOf.get(e.subject) ?? []), e.id]);
  const violations = compareCustomers(reference, stored, settings).map(
    (v): Violation => ({
      check: "customers",
      customerId: v.customerId,
      detail: `${v.field}: expected ${JSON.stringify(v.expected)}, stored ${JSON.stringify(v.actual)}`,
      events: (idsOf.get(v.customerId) ?? []).slice(-EVENTS_SHOWN),
    }),
  );
  return { compared: reference.size, violations };
}
