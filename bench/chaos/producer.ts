import type { Producer } from "kafkajs";
import { z } from "zod";
import type { EventStream, StreamItem } from "./event-stream.js";

// Sends the stream at a steady rate, as backend systems do: most to Kafka (keyed by customer),
// some to POST /v1/events. A send that fails (the broker or the API is down, a 503) is retried
// until it is confirmed, as a well-behaved producer does: so every item the log holds did reach
// the product at least once, and the checker may ask for every one of them.

export interface HttpRejection {
  id: string | null;
  kind: string;
}

export interface ProducedLog {
  items: StreamItem[];
  /** Items POST /v1/events answered `rejected`, with the reason kind it gave. */
  httpRejected: HttpRejection[];
  /** Send attempts that failed and were retried, by path. */
  retries: { kafka: number; http: number };
}

export interface ProducerOptions {
  stream: EventStream;
  producer: Producer;
  apiUrl: string;
  apiKey: string;
  /** Items per second. */
  rate: number;
  say: (line: string) => void;
}

const TICK_MS = 200;
/** What POST /v1/events answers (the part read here). */
const Answer = z.object({ results: z.array(z.object({ id: z.string().nullable(), status: z.string(), reason: z.object({ kind: z.string() }).optional() })) });
const RETRY_MS = 500;

export function startProducing({ stream, producer, apiUrl, apiKey, rate, say }: ProducerOptions) {
  const log: ProducedLog = { items: [], httpRejected: [], retries: { kafka: 0, http: 0 } };
  let running = true;
  let owed = 0;
  let lastComplaint = 0;
  const complain = (what: string, err: unknown) => {
    if (Date.now() - lastComplaint < 5_000) return;
    lastComplaint = Date.now();
    say(`producer: ${what} failed (${err instanceof Error ? err.message.split("\n")[0] : String(err)}); retrying until it is confirmed`);
  };

  const untilConfirmed = async (what: "kafka" | "http", send: () => Promise<void>) => {
    for (;;) {
      try {
        await send();
        return;
      } catch (err) {
        log.retries[what]++;
        complain(what === "kafka" ? "a produce to Kafka" : "POST /v1/events", err);
        await new Promise((r) => setTimeout(r, RETRY_MS));
      }
    }
  };

  const sendKafka = (items: StreamItem[]) =>
    untilConfirmed("kafka", async () => {
      const byTopic = new Map<string, { key: string; value: string }[]>();
      for (const i of items) byTopic.set(i.topic, [...(byTopic.get(i.topic) ?? []), { key: i.key, value: i.value }]);
      await producer.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
    });

  const sendHttp = (items: StreamItem[]) =>
    untilConfirmed("http", async () => {
      const body = items.map((i) => (i.kind === "bad" ? i.body : i.event));
      const res = await fetch(`${apiUrl}/v1/events`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${apiKey}` },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(15_000),
      });
      const text = await res.text();
      if (res.status !== 202 && res.status !== 200) throw new Error(`HTTP ${res.status}: ${text.slice(0, 200)}`);
      const answer = Answer.parse(JSON.parse(text));
      for (const r of answer.results) if (r.status === "rejected") log.httpRejected.push({ id: r.id, kind: r.reason?.kind ?? "?" });
    });

  const loop = (async () => {
    while (running) {
      const started = Date.now();
      owed += (rate * TICK_MS) / 1000;
      const batch: StreamItem[] = [];
      for (; owed >= 1; owed--) batch.push(stream.next(new Date()));
      // Logged before sending: an item whose send is still being retried is owed all the same.
      log.items.push(...batch);
      const kafka = batch.filter((i) => i.via === "kafka");
      const http = batch.filter((i) => i.via === "http");
      await Promise.all([kafka.length ? sendKafka(kafka) : undefined, http.length ? sendHttp(http) : undefined]);
      await new Promise((r) => setTimeout(r, Math.max(0, TICK_MS - (Date.now() - started))));
    }
  })();

  return {
    log,
    /** Stops making new items; resolves once every item made so far is confirmed. */
    async stop(): Promise<void> {
      running = false;
      await loop;
    },
  };
}
