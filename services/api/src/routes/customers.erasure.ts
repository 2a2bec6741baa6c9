import { z } from "zod";
import { withTransaction, type Pool } from "@lifecycle/db";
import type { ErasureResult } from "./customers.schemas.js";
import { ERASURE, REGISTRATION_PII_FIELDS } from "./customers.sql.js";

export type ErasureOutcome = { type: "Erased"; result: ErasureResult } | { type: "CustomerNotFound" };

/**
 * Erases a customer's personal data everywhere this service keeps it, in one transaction, and
 * records the erasure: the profile's e-mail, name, birthday and referrer; the same fields in the
 * stored registration events and the comments of its survey answers (in the events and in
 * survey_responses); the birthday in its follow-up messages. What is not personal stays: the
 * customer id (the CRM's key, which every other table refers to), orders and amounts, tickets,
 * scores, stages, CLV and health, so the aggregates do not change. Repeating it erases nothing
 * more and answers all zeros. The customer row is locked first, so an ingest batch for the same
 * customer runs wholly before or after it.
 *
 * Not reached from here: the input topics on Kafka (gone with their retention) and follow-up
 * jobs already handed to BullMQ (the worker reads e-mail and name from `customers` when it sends).
 */
export async function erasePersonalData(pool: Pool, { customerId, apiKeyId }: { customerId: string; apiKeyId: string }): Promise<ErasureOutcome> {
  return withTransaction(pool, async (tx) => {
    const found = await tx.query(ERASURE.lockCustomer, [customerId]);
    if (found.rowCount === 0) return { type: "CustomerNotFound" };
    const count = async (sql: string, params: unknown[]) => (await tx.query(sql, params)).rowCount ?? 0;
    const erased = {
      customers: await count(ERASURE.customers, [customerId]),
      inboxEvents: await count(ERASURE.inboxEvents, [customerId, REGISTRATION_PII_FIELDS]),
      surveyResponses: await count(ERASURE.surveyResponses, [customerId]),
      followUps: await count(ERASURE.followUps, [customerId]),
    };
    const recorded = await tx.query(ERASURE.record, [customerId, apiKeyId, JSON.stringify(erased)]);
    const { erased_at } = z.object({ erased_at: z.string() }).parse(recorded.rows[0]);
    return { type: "Erased", result: { customerId, erasedAt: erased_at, erased } };
  });
}
