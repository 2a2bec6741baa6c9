import { randomUUID } from "node:crypto";
import { Partitioners } from "kafkajs";
import { Registry } from "prom-client";
import { createApiKeyRepo, type Pool } from "@lifecycle/db";
import { EngineSettings } from "@lifecycle/domain";
import { createClock } from "@lifecycle/engine";
import { LifecycleEvent, type StageChanged } from "@lifecycle/events";
import { createEventPublisher, createKafka, ensureTopics } from "@lifecycle/kafka";
import type { Logger } from "@lifecycle/logging";
import { createTestLogger, uniqueName, type TestInfra } from "@lifecycle/testkit";
import { dependencyChecks } from "@lifecycle/telemetry";
import { applyEvents, createApplyDeps } from "@lifecycle/pipeline";
import { buildApp } from "../app.js";
import type { ApiDeps, StageChangeFeed } from "../deps.js";

/** A feed the test pushes stage changes into (the Kafka-fed one is tested end to end). */
export function createLocalFeed(): StageChangeFeed & { emit(e: StageChanged): void } {
  const listeners = new Set<(e: StageChanged) => void>();
  return {
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    emit: (e) => listeners.forEach((l) => l(e)),
  };
}

/**
 * The API on a test's own database and the run's real broker (events are produced to unique
 * topics), with one key per scope. Requests go through `app.inject`. `appLogger`: the app's own
 * logger (a test capturing what the API logs); none by default.
 */
export async function createApiHarness({ infra, pool, overrides = {}, appLogger }: { infra: TestInfra; pool: Pool; overrides?: Partial<ApiDeps>; appLogger?: Logger }) {
  const logger = createTestLogger("api");
  const kafka = createKafka({ brokers: infra.kafka.brokers, clientId: uniqueName("api-test"), logger });
  const topics = { customer: uniqueName("api-cust"), purchase: uniqueName("api-purch"), supportTicket: uniqueName("api-tick"), survey: uniqueName("api-surv") };
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, Object.values(topics).map((topic) => ({ topic })), 1);
  await admin.disconnect();
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
  await producer.connect();
  const keyRepo = createApiKeyRepo(pool);
  const keys = {
    read: (await keyRepo.create({ name: "test read", scopes: ["read"] })).key,
    ingest: (await keyRepo.create({ name: "test ingest", scopes: ["ingest"] })).key,
    admin: (await keyRepo.create({ name: "test admin", scopes: ["admin"] })).key,
  };
  const feed = createLocalFeed();
  const deps: ApiDeps = {
    pool,
    keys: keyRepo,
    settings: EngineSettings.parse({}),
    rates: { USD: "1" },
    publishEvents: createEventPublisher({ producer, topics }),
    stageChanges: feed,
    queues: [],
    readiness: dependencyChecks({ postgres: pool }),
    registry: new Registry(),
    rateLimitPerMinute: 1_000,
    bodyLimitBytes: 1_048_576,
    ...overrides,
  };
  const app = await buildApp(deps, appLogger ? { logger: appLogger } : {});
  await app.ready();
  const auth = (key: string) => ({ authorization: `Bearer ${key}` });
  return {
    app,
    keys,
    auth,
    feed,
    kafka,
    topics,
    async close() {
      await app.close();
      await producer.disconnect();
    },
  };
}
export type ApiHarness = Awaited<ReturnType<typeof createApiHarness>>;

/** A CloudEvent from source "test" with a fresh id, parsed as ingest parses it. */
export const ev = (subject: string, type: string, time: string, data: object): LifecycleEvent =>
  LifecycleEvent.parse({ specversion: "1.0", id: `e-${randomUUID()}`, source: "test", subject, type, time, data });

/** A purchase of `amount` USD with a fresh order id. */
export const purchase = (subject: string, time: string, amount = "10.00"): LifecycleEvent =>
  ev(subject, "purchase.completed", time, { orderId: `o-${randomUUID()}`, amount, currency: "USD" });

/**
 * The ingest path into `pool` as Kafka would deliver events, at a fixed engine clock (`now`) and
 * the given engine settings (the defaults if none): the returned `apply(...events)` applies them
 * as one ingest batch (one transaction), at the next offsets.
 */
export function createTestIngest({ pool, now, settings }: { pool: Pool; now: Date; settings?: EngineSettings }) {
  const deps = createApplyDeps({ pool, rates: { USD: "1" }, clock: createClock({ mode: "wall", wallNow: () => now }), settings, modelCacheMs: 0 });
  let offset = 0;
  return (...events: LifecycleEvent[]) => applyEvents(deps, events.map((event) => ({ event, topic: "t", partition: 0, offset: offset++ })));
}
export type TestIngest = ReturnType<typeof createTestIngest>;
