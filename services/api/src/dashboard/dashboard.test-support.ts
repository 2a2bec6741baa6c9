import { readFileSync } from "node:fs";
import { createJobOutcomeRepo, createOutboxRepo, type JobOutcome, type Pool } from "@lifecycle/db";
import { EngineSettings, isHeldOut } from "@lifecycle/domain";
import { createClock, createModelCache, createModelsRepo, refitModels, sweepDueCustomers } from "@lifecycle/engine";
import { cdnowRowsToEvents, FollowUpJob, followUpQueue, LifecycleEvent, parseCdnowLine, type StageChanged } from "@lifecycle/events";
import type { FollowUpQueues } from "@lifecycle/queue";
import { createTestLogger, waitFor } from "@lifecycle/testkit";
import { syntheticSupportEvents } from "../../../../scripts/lib/synthetic-support.js";
import { applyEvents, createApplyDeps, createOutboxRelay } from "@lifecycle/pipeline";

const SAMPLE = new URL("../../../../../shared/data/cdnow/CDNOW_sample.txt", import.meta.url);
const WEEK_MS = 7 * 86_400_000;
const RELAY_HORIZON_MS = 300_000;

/**
 * The CDNOW 1/10 sample (2,357 customers' real purchases, 1997-01 to 1998-06) plus the demo's
 * labelled synthetic surveys and tickets for the same customers, in event-time order.
 */
function historyEvents(): LifecycleEvent[] {
  const rows = readFileSync(SAMPLE, "utf8").split("\n").flatMap((l) => parseCdnowLine(l) ?? []);
  return [...cdnowRowsToEvents(rows), ...syntheticSupportEvents(rows)].map((e) => LifecycleEvent.parse(e)).sort((a, b) => Date.parse(a.time) - Date.parse(b.time) || a.id.localeCompare(b.id));
}

/**
 * Fills `pool` the way the services do, with the watermark clock: ingest applies the events a
 * week at a time, the worker's stage sweep runs after each week and the CLV refit each quarter
 * and at the end, then the outbox relay puts the follow-ups on the (real) BullMQ queues.
 */
export async function seedLifecycle({ pool, followUps }: { pool: Pool; followUps: FollowUpQueues }): Promise<void> {
  const settings = EngineSettings.parse({});
  const clock = createClock({ mode: "watermark" });
  const apply = createApplyDeps({ pool, rates: { USD: "1" }, clock, settings, modelCacheMs: 0 });
  const outbox = createOutboxRepo(pool);
  const repo = createModelsRepo(pool);
  const models = createModelCache({ repo, ttlMs: 0 });
  const events = historyEvents();
  let offset = 0;
  for (let week = 0; offset < events.length; week++) {
    const until = Date.parse(events[offset]?.time ?? "") + WEEK_MS;
    const batch: LifecycleEvent[] = [];
    for (let e = events[offset]; e && Date.parse(e.time) < until; e = events[++offset]) batch.push(e);
    await applyEvents(apply, batch.map((event, j) => ({ event, topic: "history", partition: 0, offset: offset - batch.length + j })));
    if (week % 13 === 12) await refitModels({ pool, outbox, clock, repo, cache: models, settings });
    await sweepDueCustomers({ pool, outbox, clock, models, settings });
  }
  await refitModels({ pool, outbox, clock, repo, cache: models, settings });
  await sweepDueCustomers({ pool, outbox, clock, models, settings });

  const relay = createOutboxRelay({
    pool,
    outbox,
    followUps,
    now: async () => (await clock.read(pool)) ?? new Date(),
    publishStageChanges: async () => undefined,
    logger: createTestLogger("dashboard-relay"),
    idleMs: 50,
    horizonMs: RELAY_HORIZON_MS,
  });
  relay.start();
  try {
    // Drained: nothing left that is due within the relay's horizon (later follow-ups wait in Postgres).
    const horizon = async () => new Date(((await clock.read(pool)) ?? new Date()).getTime() + RELAY_HORIZON_MS);
    await waitFor("the outbox relay to drain", async () => ((await outbox.countDue(await horizon())) === 0 ? true : undefined), { timeoutMs: 60_000 });
  } finally {
    await relay.stop();
  }
}

/**
 * The outcomes a worker would record for the seeded follow-ups due by the watermark, so the uplift
 * card has data: `held-out` for customers in a playbook's control group under `settings` (the
 * same `isHeldOut` the worker's decideDelivery applies), `sent` for the rest. The worker itself
 * is tested end to end in test/holdout.e2e.test.ts; here the CDNOW customers' real later purchases
 * decide who converted.
 */
export async function seedFollowUpOutcomes({ pool, settings }: { pool: Pool; settings: EngineSettings }): Promise<void> {
  const { rows } = await pool.query<{ dedupe_key: string; payload: unknown }>(
    "SELECT dedupe_key, payload FROM outbox WHERE kind = 'follow-up' AND due_at <= (SELECT max(watermark) FROM lifecycle_watermarks)",
  );
  const outcomes = rows.flatMap((row): JobOutcome[] => {
    const job = FollowUpJob.safeParse(row.payload);
    if (!job.success) return [];
    const { playbook, customerId, channel } = job.data;
    const heldOut = isHeldOut(playbook, customerId, settings.playbooks[playbook].holdoutShare);
    return [{ jobId: row.dedupe_key, queue: followUpQueue(channel), jobName: "follow-up", customerId, status: heldOut ? "held-out" : "sent", detail: heldOut ? "held-out (seeded)" : "seeded", attempts: 1 }];
  });
  await createJobOutcomeRepo(pool).recordNew(outcomes);
}

/** A stage change as the Kafka feed delivers it, for the live-alerts panel. */
export function atRiskChange(customerId: string, at: string): StageChanged {
  return {
    specversion: "1.0",
    id: `stage-changed-test-${customerId}`,
    source: "lifecycle-engine",
    type: "lifecycle.stage.changed",
    subject: customerId,
    time: at,
    data: { from: "repeat", to: "at-risk", reason: "detractor-score", at, clv: { historical: "321.50", predicted: "120.00", pAlive: 0.42, expectedPurchases: 1.3 } },
  };
}
