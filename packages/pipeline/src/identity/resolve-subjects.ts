import type { IdentityRepo, Queryable } from "@lifecycle/db";
import type { LifecycleEvent } from "@lifecycle/events";

/**
 * The events with each subject replaced by its canonical customer id: an event under an alias
 * (a guest's `email:…`, a helpdesk contact) applies to the customer it belongs to. One lookup for
 * the batch; subjects that are nobody's alias (most of them) stay as they are. The inbox keeps the
 * subject as it was sent.
 */
export async function resolveSubjects(tx: Queryable, identity: IdentityRepo, events: readonly LifecycleEvent[]): Promise<LifecycleEvent[]> {
  const canonical = await identity.resolve([...new Set(events.map((e) => e.subject))], tx);
  if (canonical.size === 0) return [...events];
  return events.map((e) => {
    const to = canonical.get(e.subject);
    return to === undefined ? e : { ...e, subject: to };
  });
}
