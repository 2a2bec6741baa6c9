/**
 * A batch's new events as a relation, from a JSON array the caller builds from the events it
 * holds in memory (see `batchEventsJson`). Reading them back from `inbox_events` by id cost an
 * index probe per event per statement; the batch only ever needs the events of its own kind.
 */
export const batchEvents = (param: string) =>
  `jsonb_to_recordset(${param}::jsonb) AS e(event_id text, type text, subject text, event_time timestamptz, data jsonb)`;

export interface BatchEvent {
  id: string;
  type: string;
  subject: string;
  time: string;
  data?: unknown;
}

/** The JSON `batchEvents` reads; `withData: false` leaves the payload out where no column needs it. */
export function batchEventsJson(events: readonly BatchEvent[], withData: (e: BatchEvent) => boolean = () => true): string {
  return JSON.stringify(events.map((e) => ({ event_id: e.id, type: e.type, subject: e.subject, event_time: e.time, data: withData(e) ? e.data : null })));
}
