import type { Queue } from "bullmq";
import { z } from "zod";
import { createOutboxRepo, withTransaction, type Pool } from "@lifecycle/db";
import { CustomerErased, PERSONAL_CONTEXT_KEYS, type OutboxMessage } from "@lifecycle/events";
import type { ErasureResult } from "./customers.schemas.js";
import { eraseFollowUpJobs } from "./customers.erasure-jobs.js";
import { ERASED_FOLLOW_UP_ERROR, ERASED_REFERRAL_CODE, ERASURE, REGISTRATION_PII_FIELDS } from "./customers.sql.js";

export type ErasureOutcome = { type: "Erased"; result: ErasureResult } | { type: "CustomerNotFound" };

/**
 * Erases a customer's personal data everywhere this service keeps it, and records the erasure.
 * In one transaction: the profile's e-mail, name, birthday, referrer and cancel reason; the same
 * fields in the stored events (registrations, cancellations' reasons, survey comments, orders'
 * referral codes) and in survey_responses and orders; the birthday in follow-up messages, and
 * every follow-up that has not run is given up; and a `lifecycle.customer.erased` event in the
 * outbox, so CRMs erase their copy. Then, committed, the customer's BullMQ jobs are removed
 * (eraseFollowUpJobs). What is not personal stays: the customer id (the CRM's key, which every
 * other table refers to), orders and amounts, tickets, scores, stages, CLV and health, so the
 * aggregates do not change. Repeating it erases nothing more and answers zeros (it announces the
 * erasure again). The customer row is locked first, so an ingest batch for the same customer runs
 * wholly before or after it.
 *
 * Not reached from here: the input topics on Kafka (gone with their retention, README "Erasure").
 * Should Redis fail after the commit, the call fails and a repeat removes the jobs; meanwhile the
 * worker sends nothing for a job that was queued before an erasure (follow-up.job.ts).
 */
export async function erasePersonalData(
  { pool, queues }: { pool: Pool; queues: readonly Queue[] },
  { customerId, apiKeyId }: { customerId: string; apiKeyId: string },
): Promise<ErasureOutcome> {
  const outcome = await withTransaction(pool, async (tx) => {
    const found = await tx.query(ERASURE.lockCustomer, [customerId]);
    if (found.rowCount === 0) return undefined;
    const count = async (sql: string, params: unknown[]) => (await tx.query(sql, params)).rowCount ?? 0;
    const rows = {
      customers: await count(ERASURE.customers, [customerId]),
      inboxEvents: await count(ERASURE.inboxEvents, [customerId, REGISTRATION_PII_FIELDS, ERASED_REFERRAL_CODE]),
      surveyResponses: await count(ERASURE.surveyResponses, [customerId]),
      orders: await count(ERASURE.orders, [customerId, ERASED_REFERRAL_CODE]),
      followUps: await count(ERASURE.followUps, [customerId, PERSONAL_CONTEXT_KEYS, ERASED_FOLLOW_UP_ERROR]),
    };
    const recorded = await tx.query(ERASURE.record, [customerId, apiKeyId, JSON.stringify(rows)]);
    const { id, erased_at } = z.object({ id: z.string(), erased_at: z.string() }).parse(recorded.rows[0]);
    await createOutboxRepo(tx).add([erasedMessage(customerId, id, erased_at)]);
    const jobIds = (await tx.query<{ job_id: string }>(ERASURE.jobIds, [customerId])).rows.map((r) => r.job_id);
    return { rows, erasedAt: erased_at, jobIds };
  });
  if (!outcome) return { type: "CustomerNotFound" };
  const jobs = await eraseFollowUpJobs(queues, outcome.jobIds);
  return { type: "Erased", result: { customerId, erasedAt: outcome.erasedAt, erased: { ...outcome.rows, ...jobs } } };
}

/** The `lifecycle.customer.erased` event of erasure record `recordId`: its id is stable, so a re-send is a duplicate. */
function erasedMessage(customerId: string, recordId: string, erasedAt: string): OutboxMessage {
  const id = `customer-erased-${recordId}`;
  const payload = CustomerErased.parse({ specversion: "1.0", id, source: "customer-lifecycle", type: "lifecycle.customer.erased", subject: customerId, time: erasedAt, data: { erasedAt } });
  return { kind: "customer-erased", dedupeKey: id, payload };
}
