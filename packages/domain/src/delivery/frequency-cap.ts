/** At most `max` marketing messages to one customer within `windowDays`, across playbooks. */
export interface FrequencyCap {
  max: number;
  windowDays: number;
}

/** A marketing follow-up of the customer that competes for the cap: one sent, or one due. */
export interface CapCandidate {
  id: string;
  playbook: string;
  /** Lower goes first (BullMQ's convention, as the playbook settings use it). */
  priority: number;
  dueAt: Date;
}

export type CapDecision = { send: true } | { send: false; why: string };

const DAY_MS = 86_400_000;

/**
 * Whether `job` fits under the cap at `now`, given the customer's marketing messages `sent` so
 * far and the other marketing follow-ups `due` for them now (not yet sent). The window counts
 * sends in the last `windowDays`; among messages due together, priority decides who goes first
 * (then the earlier due, then the id), and the rest are skipped with why.
 */
export function checkFrequencyCap({ job, sent, due, cap, now }: { job: CapCandidate; sent: readonly { at: Date; playbook: string }[]; due: readonly CapCandidate[]; cap: FrequencyCap; now: Date }): CapDecision {
  const since = now.getTime() - cap.windowDays * DAY_MS;
  const inWindow = sent.filter((s) => s.at.getTime() > since && s.at.getTime() <= now.getTime());
  const ahead = due.filter((d) => d.id !== job.id && goesBefore(d, job));
  const used = inWindow.length + ahead.length;
  if (used < cap.max) return { send: true };
  const names = [...inWindow.map((s) => `${s.playbook} sent ${s.at.toISOString()}`), ...ahead.map((d) => `${d.playbook} due first (priority ${d.priority})`)];
  return { send: false, why: `frequency-cap: ${cap.max} marketing message(s) per ${cap.windowDays} days reached (${names.join("; ")})` };
}

function goesBefore(a: CapCandidate, b: CapCandidate): boolean {
  if (a.priority !== b.priority) return a.priority < b.priority;
  if (a.dueAt.getTime() !== b.dueAt.getTime()) return a.dueAt.getTime() < b.dueAt.getTime();
  return a.id < b.id;
}
