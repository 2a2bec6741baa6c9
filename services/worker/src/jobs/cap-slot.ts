import { withTransaction, type MarketingCapRepo, type Pool, type Queryable } from "@lifecycle/db";
import type { DeliveryDecision } from "@lifecycle/domain";

/**
 * Decides a follow-up's delivery; for a marketing one, so that the cap and playbook priority hold
 * when several of the customer's marketing jobs run at once (worker concurrency, several
 * workers). The cap is read-then-send: two jobs that both read "1 of 2 sent" would both send; and
 * jobs a worker starts together reach their decision in no set order. So each marketing job
 * enters marketing_cap_claims when its attempt starts (the handler does that, and leaves when it
 * ends), and decides in a short transaction holding the customer's advisory lock: the jobs that
 * entered and are still deciding are due beside it (the higher priority goes first), and a `send`
 * takes its slot before the commit. The send itself happens after the commit with no lock or
 * connection held: an SMTP or webhook call can take seconds, and busy workers each holding a
 * pooled connection across one would starve the pool.
 */
export async function decideHoldingCapSlot<T extends { decision: DeliveryDecision }>(
  pool: Pool,
  slots: MarketingCapRepo,
  marketing: { jobId: string; customerId: string } | undefined,
  decide: (db: Queryable) => Promise<T>,
): Promise<T> {
  if (!marketing) return decide(pool);
  return withTransaction(pool, async (tx) => {
    await slots.lockCustomer(marketing.customerId, tx);
    const decided = await decide(tx);
    if (decided.decision.kind === "send") await slots.takeSlot(marketing.jobId, tx);
    return decided;
  });
}
