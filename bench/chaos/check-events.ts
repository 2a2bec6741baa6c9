import type { Kafka } from "kafkajs";
import type { Pool } from "@lifecycle/db";
import { readWholeTopic } from "@lifecycle/testkit/tools";
import { messageId } from "./message-id.js";
import type { ProducedLog } from "./producer.js";
import { EXPECTED_REJECTION, type Violation } from "./violation.js";

// Every valid event recorded once (none missing, none twice, nothing the run did not send), every
// bad one dead-lettered with the right reason (through Kafka) or rejected with it (over HTTP), and
// none of them recorded.

export interface EventFigures {
  produced: number;
  distinctValid: number;
  duplicatesSent: number;
  bad: number;
  recorded: number;
  deadLetters: number;
}

export async function checkEvents({ pool, kafka, dlqTopic, log, prefix }: { pool: Pool; kafka: Kafka; dlqTopic: string; log: ProducedLog; prefix: string }): Promise<{ figures: EventFigures; violations: Violation[] }> {
  const violations: Violation[] = [];
  const valid = new Map<string, string>();
  let duplicatesSent = 0;
  for (const i of log.items) {
    if (i.kind === "duplicate") duplicatesSent++;
    if (i.kind !== "bad") valid.set(i.event.id, i.event.subject);
  }
  const bad = log.items.flatMap((i) => (i.kind === "bad" ? [i] : []));

  const { rows } = await pool.query<{ event_id: string; n: number }>("SELECT event_id, count(*)::int AS n FROM inbox_events WHERE starts_with(event_id, $1) GROUP BY event_id", [prefix]);
  const recorded = new Map(rows.map((r) => [r.event_id, r.n]));
  for (const [id, subject] of valid) {
    const n = recorded.get(id) ?? 0;
    if (n !== 1) violations.push({ check: "events", customerId: subject, detail: n === 0 ? `valid event ${id} was never recorded` : `event ${id} recorded ${n} times`, events: [id] });
  }
  for (const id of recorded.keys()) if (!valid.has(id)) violations.push({ check: "events", detail: `event ${id} recorded though the run never sent it as a valid event`, events: [id] });

  const letters = await readWholeTopic(kafka, dlqTopic, 120_000);
  const reasons = new Map<string, string[]>();
  for (const l of letters) {
    const id = messageId(l.value?.toString("utf8") ?? "");
    if (id) reasons.set(id, [...(reasons.get(id) ?? []), l.headers.dlq_reason ?? ""]);
  }
  const httpRejected = new Map(log.httpRejected.map((r) => [r.id, r.kind]));
  for (const b of bad) {
    const expected = EXPECTED_REJECTION[b.bad.what];
    if (b.via === "kafka") {
      const got = reasons.get(b.bad.id);
      if (!got) violations.push({ check: "dead-letters", detail: `bad input ${b.bad.id} (${b.bad.what}) is not on the dead-letter topic`, events: [b.bad.id] });
      else if (!got.every((r) => r.includes(`"kind":"${expected}"`))) violations.push({ check: "dead-letters", detail: `bad input ${b.bad.id} dead-lettered with ${got.join(" | ")}, expected kind ${expected}`, events: [b.bad.id] });
    } else if (httpRejected.get(b.bad.id) !== expected) {
      violations.push({ check: "dead-letters", detail: `bad input ${b.bad.id} over HTTP answered ${httpRejected.get(b.bad.id) ?? "accepted"}, expected rejected (${expected})`, events: [b.bad.id] });
    }
  }
  // A valid event must never be dead-lettered.
  for (const id of reasons.keys()) if (valid.has(id)) violations.push({ check: "dead-letters", customerId: valid.get(id), detail: `valid event ${id} was dead-lettered: ${reasons.get(id)?.join(" | ")}`, events: [id] });

  return {
    figures: { produced: log.items.length, distinctValid: valid.size, duplicatesSent, bad: bad.length, recorded: recorded.size, deadLetters: letters.length },
    violations,
  };
}
