// Follows a consumer group through a phase from the broker's side: committed offsets (the ingest
// service commits them only after the batch's state is committed in Postgres) against the ends of
// the topics, and the group's members. Prints a progress line every 5 s and fails loudly when the
// phase does not finish in time.
import type { Admin } from "kafkajs";
import { fmt as n } from "./format.js";

export interface Offsets {
  committed: number;
  end: number;
}

/** Committed offsets of `groupId` and the high watermarks, summed over every partition of `topics`. */
export async function groupOffsets(admin: Admin, groupId: string, topics: readonly string[]): Promise<Offsets> {
  const ends = await Promise.all(topics.map((topic) => admin.fetchTopicOffsets(topic)));
  const committed = await admin.fetchOffsets({ groupId, topics: [...topics] });
  const end = ends.flat().reduce((n, p) => n + Number(p.high), 0);
  const done = committed.flatMap((t) => t.partitions).reduce((n, p) => n + Math.max(0, Number(p.offset)), 0);
  return { committed: done, end };
}

export interface FollowOptions {
  admin: Admin;
  groupId: string;
  topics: readonly string[];
  /** e.g. "(b) 1 replica": starts each progress line. */
  label: string;
  /** Members the group has once every consumer of the phase has joined. */
  replicas: number;
  timeoutMs: number;
  say: (line: string) => void;
  /** More to print on each progress line (Redis, pending jobs). */
  extra?: () => string;
  stopping: () => boolean;
  /** Offsets before the phase: figures count from there. @defaultValue 0 */
  base?: number;
  /** Where to look when it fails (log files). */
  hint?: string;
}

export interface FollowResult {
  /** Events committed between the moment the group was complete and the end. */
  events: number;
  seconds: number;
  /** From the start of following to the end, start-up included. */
  wallSeconds: number;
  /** Committed before the group was complete (a replica alone, during start-up): not in `events`. */
  startupEvents: number;
  completeAt: number;
  endAt: number;
  /** Distinct member ids the broker listed once the group was complete. */
  membersSeen: number;
}

const POLL_MS = 250;
const PRINT_MS = 5_000;

/** Member ids the broker lists for the group now. */
export async function memberIds(admin: Admin, groupId: string): Promise<Set<string>> {
  const [group] = (await admin.describeGroups([groupId])).groups;
  return new Set(group?.members.map((m) => m.memberId) ?? []);
}

export async function followGroup(o: FollowOptions): Promise<FollowResult> {
  const started = Date.now();
  const base = o.base ?? 0;
  const members = new Set<string>();
  let complete: { at: number; committed: number } | undefined;
  let lastDescribe = 0;
  let last = { at: started, committed: base };
  let moved = { at: started, committed: -1 };
  for (;;) {
    if (o.stopping()) throw new Error(`${o.label}: stopped`);
    const { committed, end } = await groupOffsets(o.admin, o.groupId, o.topics);
    const now = Date.now();
    if (committed !== moved.committed) moved = { at: now, committed };
    if (!complete || now - lastDescribe >= 1_000) {
      lastDescribe = now;
      const [group] = (await o.admin.describeGroups([o.groupId])).groups;
      const ids = group?.members.map((m) => m.memberId) ?? [];
      if (!complete && group?.state === "Stable" && ids.length >= o.replicas) complete = { at: now, committed };
      if (complete) for (const id of ids) members.add(id);
    }
    if (committed >= end && end > base) {
      const c = complete ?? { at: started, committed: base };
      const seconds = (now - c.at) / 1000;
      return { events: committed - c.committed, seconds, wallSeconds: (now - started) / 1000, startupEvents: c.committed - base, completeAt: c.at, endAt: now, membersSeen: members.size };
    }
    if (now - last.at >= PRINT_MS) {
      const rate = (committed - last.committed) / ((now - last.at) / 1000);
      const avg = complete ? (committed - complete.committed) / Math.max(0.001, (now - complete.at) / 1000) : rate;
      const stalled = now - moved.at >= 60_000 ? `; NO PROGRESS for ${Math.round((now - moved.at) / 1000)} s${o.hint ? `, see ${o.hint}` : ""}` : "";
      o.say(`${o.label} ${n(committed - base)}/${n(end - base)} events, ${n(rate)}/s (avg ${n(avg)}/s)${complete ? "" : ", group not complete yet"}${o.extra ? `, ${o.extra()}` : ""}${stalled}`);
      last = { at: now, committed };
    }
    if (now - started > o.timeoutMs) {
      throw new Error(
        `${o.label} did not finish within ${Math.round(o.timeoutMs / 60_000)} min: ${n(committed - base)}/${n(end - base)} events committed by group ${o.groupId}${o.hint ? `; see ${o.hint}` : ""}`,
      );
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}
