import { EngineSettings } from "@lifecycle/domain";
import { followUpJobParts, LifecycleEvent } from "@lifecycle/events";
import { createTestLogger, describe, expect, test, uniqueName, waitFor } from "@lifecycle/testkit";
import { createFollowUpPipeline } from "./support/follow-up-pipeline.js";

// Issue 14's done-when: a guest purchase under an e-mail, a registration under an account id, an
// identify joining them and a second purchase give one customer, a repeat buyer, with the CLV of
// both purchases and one thank-you, whatever order the four events arrive in and however they are
// batched. Every part real: Postgres, the outbox relay, BullMQ on Redis and the worker.
const logger = createTestLogger("identity");
// The thank-you waits 3 s here (0 by default): the four events of every run arrive within it, as an
// identify usually follows a checkout within minutes. A thank-you already delivered when the identify
// arrives cannot be recalled; README "Identity" says to give it a delay for that reason.
const settings = EngineSettings.parse({ playbooks: { "thank-you": { delayMinutes: 3 / 60 } } });

/** Every order of the items. */
function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]));
}
/** Batch sizes that cover 4 events: one by one, all at once, and the splits between. */
const BATCHINGS = [[1, 1, 1, 1], [4], [2, 2], [1, 3], [3, 1], [1, 2, 1]];

/** A run's two ids: the guest's e-mail and the account it registers. */
function idsOf(run: string) {
  return { email: `email:ann+${run}@example.com`, account: `account:${run}-42` };
}

function fourEvents(run: string) {
  const { email, account } = idsOf(run);
  const start = Date.now();
  const ev = (n: number, subject: string, type: string, data: Record<string, unknown>) =>
    LifecycleEvent.parse({ specversion: "1.0", id: `${run}-e${n}`, source: "test", subject, time: new Date(start + n * 1_000).toISOString(), type, data });
  const events = [
    ev(1, email, "purchase.completed", { orderId: "guest-1", amount: "20.00", currency: "USD" }),
    ev(2, account, "customer.registered", { email: `ann+${run}@example.com`, name: "Ann" }),
    ev(3, account, "customer.identified", { ids: [email] }),
    ev(4, account, "purchase.completed", { orderId: "web-2", amount: "30.50", currency: "USD" }),
  ];
  return events;
}

describe("identity resolution", { timeout: 120_000 }, () => {
  test("guest purchase, registration, identify and a second purchase: one repeat customer with both purchases' CLV and one thank-you, in every order and batching", async ({ infra, database }) => {
    const pipeline = createFollowUpPipeline({ pool: database.pool, redisUrl: infra.redis.url, prefix: uniqueName("idq"), settings, logger });
    await pipeline.start();
    try {
      const runs = permutations([0, 1, 2, 3]).flatMap((order, o) =>
        BATCHINGS.map((sizes, b) => {
          const run = `o${o}b${b}`;
          return { label: `order ${order.join("")} batches ${sizes.join("+")}`, run, order, sizes, ...idsOf(run) };
        }),
      );
      for (const run of runs) {
        // Event times from the moment the run starts, so its thank-yous fall due 3 s after its
        // events, not after the whole loop's start (144 runs take longer than 3 s on a busy machine).
        const events = fourEvents(run.run);
        const arrival = run.order.flatMap((i) => events.slice(i, i + 1));
        for (let i = 0, b = 0; i < arrival.length; b++) {
          const size = run.sizes[b] ?? 1;
          await pipeline.apply(arrival.slice(i, i + size));
          i += size;
        }
      }

      const thankYous = async () =>
        (await database.pool.query<{ job_id: string; customer_id: string; status: string; detail: string | null }>(
          "SELECT job_id, customer_id, status, detail FROM job_outcomes WHERE split_part(job_id, '|', 2) = 'thank-you'",
        )).rows;
      // Every run queued one or two thank-yous (two when both ids had a purchase before the identify).
      const queued = await database.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM outbox WHERE payload->>'playbook' = 'thank-you'");
      expect(queued.rows[0]?.n).toBeGreaterThanOrEqual(runs.length);
      await waitFor("every thank-you to run", async () => ((await thankYous()).length === queued.rows[0]?.n ? true : undefined), { timeoutMs: 60_000 });
      const outcomes = await thankYous();

      for (const run of runs) {
        const customers = await database.pool.query<{ customer_id: string; stage: string; purchase_count: number; historical_clv: string; email: string }>(
          "SELECT customer_id, stage, purchase_count, historical_clv::text, email FROM customers WHERE customer_id IN ($1, $2)",
          [run.email, run.account],
        );
        expect(customers.rows, run.label).toEqual([{ customer_id: run.account, stage: "repeat", purchase_count: 2, historical_clv: "50.5000", email: run.email.slice("email:".length) }]);
        const alias = await database.pool.query("SELECT customer_id FROM customer_aliases WHERE alias_id = $1", [run.email]);
        expect(alias.rows, run.label).toEqual([{ customer_id: run.account }]);
        const mine = outcomes.filter((o) => o.customer_id === run.account);
        const sent = mine.filter((o) => o.status === "sent");
        expect(sent, run.label).toHaveLength(1);
        // A second one (the guest's, queued before the identify) is skipped as the same follow-up.
        for (const other of mine.filter((o) => o.status !== "sent")) expect(other, run.label).toMatchObject({ status: "skipped", detail: expect.stringMatching(/^duplicate-after-merge: /) });
        // One thank-you reached the person: under the account, or under the e-mail if it fell due
        // before the identify arrived (its outcome then moved to the account with the merge).
        const delivered = pipeline.deliveries.filter((d) => d.playbook === "thank-you" && (d.customer.id === run.account || d.customer.id === run.email));
        expect(delivered, run.label).toHaveLength(1);
        expect(followUpJobParts(delivered[0]?.id ?? "")?.trigger).toBe("first-purchase");
      }
      // Both thank-yous were queued in some runs, so the deduplication was exercised.
      expect(outcomes.length).toBeGreaterThan(runs.length);
    } finally {
      await pipeline.stop();
    }
  });
});
