import type { Kafka } from "kafkajs";
import type { Pool } from "@lifecycle/db";
import { readWholeTopic } from "@lifecycle/testkit/tools";
import { messageId } from "./message-id.js";
import type { Violation } from "./violation.js";

// Every stage change recorded is on `lifecycle-stage-changed`; a message seen more than once (the
// relay's at-least-once) is the same message (same id, same bytes); nothing is on the topic that
// was not recorded; and each customer's changes form one chain ending at its current stage.

export interface StageChangeFigures {
  recorded: number;
  messages: number;
  /** Messages beyond the first of an id. */
  repeats: number;
}

interface TransitionRow {
  id: string;
  customer_id: string;
  from_stage: string | null;
  to_stage: string;
  stage: string | null;
}

export async function checkStageChanges({ pool, kafka, topic, prefix }: { pool: Pool; kafka: Kafka; topic: string; prefix: string }): Promise<{ figures: StageChangeFigures; violations: Violation[] }> {
  const violations: Violation[] = [];
  const { rows } = await pool.query<TransitionRow>(
    `SELECT t.id::text, t.customer_id, t.from_stage, t.to_stage, c.stage
       FROM stage_transitions t LEFT JOIN customers c USING (customer_id)
      WHERE starts_with(t.customer_id, $1) ORDER BY t.customer_id, t.id`,
    [prefix],
  );
  const messages = await readWholeTopic(kafka, topic, 120_000);
  const byId = new Map<string, string[]>();
  for (const m of messages) {
    const value = m.value?.toString("utf8") ?? "";
    const id = messageId(value) ?? "(no id)";
    byId.set(id, [...(byId.get(id) ?? []), value]);
  }
  let repeats = 0;
  for (const [id, copies] of byId) {
    repeats += copies.length - 1;
    if (new Set(copies).size > 1) violations.push({ check: "stage-changes", detail: `${copies.length} different messages share the id ${id}` });
  }

  const recorded = new Set<string>();
  rows.forEach((t, k) => {
    const previous = rows[k - 1];
    const id = `stage-changed-${t.id}`;
    recorded.add(id);
    if (!byId.has(id)) violations.push({ check: "stage-changes", customerId: t.customer_id, detail: `stage change ${t.id} (${t.from_stage ?? "none"} → ${t.to_stage}) was never published` });
    const chained = previous?.customer_id === t.customer_id ? previous.to_stage : null;
    if (previous?.customer_id === t.customer_id && t.from_stage !== chained) {
      violations.push({ check: "stage-changes", customerId: t.customer_id, detail: `stage change ${t.id} starts from ${t.from_stage ?? "none"}, but the change before it ended at ${chained ?? "none"}` });
    }
    const next = rows[k + 1];
    if (next?.customer_id !== t.customer_id && t.stage !== t.to_stage) {
      violations.push({ check: "stage-changes", customerId: t.customer_id, detail: `the last stage change ends at ${t.to_stage}, but the customer's stage is ${t.stage ?? "none"}` });
    }
  });
  for (const id of byId.keys()) {
    if (!recorded.has(id) && id.startsWith("stage-changed-") && byId.get(id)?.some((v) => v.includes(`"subject":"${prefix}`))) {
      violations.push({ check: "stage-changes", detail: `${id} is on the topic but no such stage change is recorded` });
    }
  }
  return { figures: { recorded: rows.length, messages: messages.length, repeats }, violations };
}
