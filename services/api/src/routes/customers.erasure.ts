import { randomUUID } from "node:crypto";
import type { Queue } from "bullmq";
import { z } from "zod";
import { createIdentityRepo, createOutboxRepo, withTransaction, type Pool } from "@lifecycle/db";
import { CustomerErased, PERSONAL_CONTEXT_KEYS, type OutboxMessage } from "@lifecycle/events";
import type { ErasureResult } from "./customers.schemas.js";
import { eraseFollowUpJobs } from "./customers.erasure-jobs.js";
import { ERASED, ERASURE, GIVEN_UP_BY_ERASURE, REGISTRATION_PII_FIELDS } from "./customers.sql.js";

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
 * erasure again).
 *
 * A customer known by several ids (identity resolution) is erased whole, whichever of its ids is
 * given: its other ids are personal data too (`email:…`), so they go from the stored events
 * (subjects, identify and merge events' ids), the merge announcements and the identity graph, and
 * stop resolving to it. An event later sent under one of them makes a new, separate customer.
 *
 * The identity graph is locked first, then the customer row, in the order ingest takes them: an
 * ingest batch for the same customer, or one linking ids to it, runs wholly before or after this.
 *
 * Not reached from here: the input topics on Kafka (gone with their retention, README "Erasure").
 * Should Redis fail after the commit, the call fails and a repeat removes the jobs; meanwhile the
 * worker sends nothing for a job that was queued before an erasure (follow-up.job.ts).
 */
export async function erasePersonalData(
  { pool, queues }: { pool: Pool; queues: readonly Queue[] },
  { customerId: asked, apiKeyId }: { customerId: string; apiKeyId: string },
): Promise<ErasureOutcome> {
  const outcome = await withTransaction(pool, async (tx) => {
    const identity = createIdentityRepo(tx);
    await identity.lockGraph();
    const customerId = (await identity.resolve([asked])).get(asked) ?? asked;
    const found = await tx.query(ERASURE.lockCustomer, [customerId]);
    if (found.rowCount === 0) return undefined;
    const ids = [customerId, ...(await identity.aliasesOf(customerId))];
    const count = async (sql: string, params: unknown[]) => (await tx.query(sql, params)).rowCount ?? 0;
    // aliasEvents first: the statements after it find all of the customer's events under its id.
    const aliasEvents = await count(ERASURE.aliasEvents, [customerId, ids]);
    const rows = {
      customers: await count(ERASURE.customers, [customerId]),
      inboxEvents: await count(ERASURE.inboxEvents, [customerId, REGISTRATION_PII_FIELDS, ERASED]),
      surveyResponses: await count(ERASURE.surveyResponses, [customerId]),
      orders: await count(ERASURE.orders, [customerId, ERASED]),
      followUps: await count(ERASURE.followUps, [ids, PERSONAL_CONTEXT_KEYS, GIVEN_UP_BY_ERASURE]),
      aliasEvents,
      mergeMessages: await count(ERASURE.mergeMessages, [customerId, ids, ERASED, GIVEN_UP_BY_ERASURE]),
      identityLinks: await count(ERASURE.identityLinks, [ids]),
      aliases: await count(ERASURE.aliases, [ids]),
    };
    // The ids BullMQ knows the jobs by, before the aliases in them are replaced.
    const jobIds = (await tx.query<{ job_id: string }>(ERASURE.jobIds, [ids])).rows.map((r) => r.job_id);
    const aliases = ids.filter((other) => other !== customerId);
    const placeholders = aliases.map(() => `erased-${randomUUID()}`);
    const aliasJobIds = await tx.query<{ n: string }>(ERASURE.aliasJobIds, [customerId, aliases.map(encodeURIComponent), placeholders.map(encodeURIComponent)]);
    const counted = { ...rows, aliasJobIds: Number(aliasJobIds.rows[0]?.n ?? 0) };
    const recorded = await tx.query(ERASURE.record, [customerId, apiKeyId, JSON.stringify(counted)]);
    const { id, erased_at } = z.object({ id: z.string(), erased_at: z.string() }).parse(recorded.rows[0]);
    await createOutboxRepo(tx).add([erasedMessage(customerId, id, erased_at)]);
    return { customerId, rows: counted, erasedAt: erased_at, jobIds };
  });
  if (!outcome) return { type: "CustomerNotFound" };
  const jobs = await eraseFollowUpJobs(queues, outcome.jobIds);
  return { type: "Erased", result: { customerId: outcome.customerId, erasedAt: outcome.erasedAt, erased: { ...outcome.rows, ...jobs } } };
}

/** The `lifecycle.customer.erased` event of erasure record `recordId`: its id is stable, so a re-send is a duplicate. */
function erasedMessage(customerId: string, recordId: string, erasedAt: string): OutboxMessage {
  const id = `customer-erased-${recordId}`;
  const payload = CustomerErased.parse({ specversion: "1.0", id, source: "customer-lifecycle", type: "lifecycle.customer.erased", subject: customerId, time: erasedAt, data: { erasedAt } });
  return { kind: "customer-erased", dedupeKey: id, payload };
}
