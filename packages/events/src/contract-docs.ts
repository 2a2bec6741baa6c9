import { z } from "zod";
import { TOPICS } from "./topics.js";
import {
  CustomerCancelled,
  CustomerConsentUpdated,
  CustomerIdentified,
  CustomerMerged,
  CustomerRegistered,
  PurchaseCompleted,
  PurchaseRefunded,
  SurveyResponded,
  TicketOpened,
  TicketReopened,
  TicketResolved,
  TicketResponded,
} from "./schemas/events.js";
import { CustomerErased } from "./schemas/customer-erased.js";
import { CustomerMergedOut } from "./schemas/customer-merged.js";
import { StageChanged } from "./schemas/stage-changed.js";

// The machine-readable contract, generated from the zod schemas (the schemas are the source):
// one JSON Schema per event type under docs/schemas/, and an AsyncAPI 3 document of our topics.
// A unit test fails when the committed files differ from what this generates.

const EVENTS = {
  "customer.registered": { schema: CustomerRegistered, topic: "customer", summary: "A customer signed up or updated their profile." },
  "customer.cancelled": { schema: CustomerCancelled, topic: "customer", summary: "An explicit churn, e.g. a subscription ended." },
  "customer.consent.updated": { schema: CustomerConsentUpdated, topic: "customer", summary: "A customer's consent on a channel was granted or withdrawn, or the address suppressed (hard bounce, complaint)." },
  "customer.identified": {
    schema: CustomerIdentified,
    topic: "customer",
    summary:
      "The customer (the subject) is also known by these 1-50 distinct external ids (namespace:value, e.g. email:ann@example.com, account:42): events sent under any of them are this customer's, and what was recorded under them moves here.",
  },
  "customer.merged": {
    schema: CustomerMerged,
    topic: "customer",
    summary:
      "Merge these 1-50 distinct customers into the subject (the survivor; it cannot be one of them): their history, value and follow-ups move to it, and their ids resolve to it from then on. There is no un-merge.",
  },
  "purchase.completed": { schema: PurchaseCompleted, topic: "purchase", summary: "An order was completed." },
  "purchase.refunded": { schema: PurchaseRefunded, topic: "purchase", summary: "An order was refunded, in part or in full." },
  "ticket.opened": { schema: TicketOpened, topic: "supportTicket", summary: "A support ticket was opened." },
  "ticket.responded": { schema: TicketResponded, topic: "supportTicket", summary: "A ticket got a response." },
  "ticket.resolved": { schema: TicketResolved, topic: "supportTicket", summary: "A ticket was resolved." },
  "ticket.reopened": { schema: TicketReopened, topic: "supportTicket", summary: "A resolved ticket was reopened." },
  "survey.responded": { schema: SurveyResponded, topic: "survey", summary: "An NPS, CSAT or CES survey was answered." },
  "lifecycle.stage.changed": { schema: StageChanged, topic: "stageChanged", summary: "A customer's lifecycle stage changed (published by the service)." },
  "lifecycle.customer.erased": { schema: CustomerErased, topic: "stageChanged", summary: "A customer's personal data was erased here (published by the service): erase your copy too." },
  "lifecycle.customer.merged": {
    schema: CustomerMergedOut,
    topic: "stageChanged",
    summary: "Customers were merged here (published by the service): the subject is the survivor; repoint your records of mergedIds to it, and treat every id in ids as the survivor.",
  },
} as const;

type TopicKey = keyof typeof TOPICS;
const camel = (s: string) => s.replace(/[.-](\w)/g, (_, c: string) => c.toUpperCase());

function jsonSchema(schema: z.ZodType, target: "draft-2020-12" | "draft-7") {
  // The input side: what producers may send (an amount as a number or a string, before normalising).
  return z.toJSONSchema(schema, { io: "input", target, unrepresentable: "any" });
}

function asyncApi() {
  const key = { type: "string", description: "The customer id (the CloudEvents subject): one customer's events stay ordered on one partition." };
  const messages: Record<string, unknown> = Object.fromEntries(
    Object.entries(EVENTS).map(([type, e]) => [
      camel(type),
      {
        name: type,
        title: type,
        summary: e.summary,
        contentType: "application/cloudevents+json",
        payload: { schemaFormat: "application/schema+json;version=draft-07", schema: jsonSchema(e.schema, "draft-7") },
        bindings: { kafka: { key, bindingVersion: "0.5.0" } },
      },
    ]),
  );
  messages.deadLetter = {
    name: "dead-letter",
    title: "Rejected input",
    summary: "An input message that could not be accepted: its original key, bytes and headers, plus why.",
    contentType: "application/octet-stream",
    payload: { schemaFormat: "application/schema+json;version=draft-07", schema: { description: "The original message value, byte for byte." } },
    headers: {
      schemaFormat: "application/schema+json;version=draft-07",
      schema: {
        type: "object",
        properties: {
          dlq_source_topic: { type: "string" },
          dlq_source_partition: { type: "string" },
          dlq_source_offset: { type: "string" },
          dlq_reason: {
            type: "string",
            description:
              'JSON: {"kind": "empty" | "not-json" | "invalid-envelope" | "invalid-time" | "unknown-type" | "invalid-data" | "out-of-range" | "unsupported-currency", "message": string, "paths": string[]}',
          },
        },
        required: ["dlq_source_topic", "dlq_source_partition", "dlq_source_offset", "dlq_reason"],
      },
    },
  };

  const channelFor = (topic: TopicKey) => camel(TOPICS[topic]);
  const channels: Record<string, { address: string; messages: Record<string, { $ref: string }> }> = {};
  const addToChannel = (topic: TopicKey, message: string) => {
    const id = channelFor(topic);
    channels[id] ??= { address: TOPICS[topic], messages: {} };
    channels[id].messages[message] = { $ref: `#/components/messages/${message}` };
  };
  for (const [type, e] of Object.entries(EVENTS)) addToChannel(e.topic, camel(type));
  addToChannel("deadLetter", "deadLetter");

  const operations = Object.fromEntries(
    Object.entries(channels).map(([id, ch]) => {
      const outgoing = ch.address === TOPICS.stageChanged || ch.address === TOPICS.deadLetter;
      return [
        `${outgoing ? "send" : "receive"}${id[0]?.toUpperCase()}${id.slice(1)}`,
        {
          action: outgoing ? "send" : "receive",
          channel: { $ref: `#/channels/${id}` },
          messages: Object.keys(ch.messages).map((m) => ({ $ref: `#/channels/${id}/messages/${m}` })),
        },
      ];
    }),
  );

  return {
    asyncapi: "3.0.0",
    info: {
      title: "customer-lifecycle events",
      version: "0.1.0",
      description:
        "The Kafka side of the customer-lifecycle service: CloudEvents 1.0 in (structured JSON, or binary mode with ce_* headers), stage changes and dead letters out. Topic names are the defaults; each is configurable. Generated from packages/events; see docs/CONTRACT.md.",
    },
    defaultContentType: "application/cloudevents+json",
    servers: { local: { host: "127.0.0.1:9092", protocol: "kafka", description: "The development broker (infra/kafka)" } },
    channels,
    operations,
    components: { messages },
  };
}

/** Every generated contract file, by path relative to the repository root. */
export function buildContractDocs(): Record<string, string> {
  const files: Record<string, string> = {};
  for (const [type, e] of Object.entries(EVENTS)) {
    files[`docs/schemas/${type}.schema.json`] = `${JSON.stringify({ $id: `${type}.schema.json`, title: type, ...jsonSchema(e.schema, "draft-2020-12") }, null, 2)}\n`;
  }
  files["docs/asyncapi.json"] = `${JSON.stringify(asyncApi(), null, 2)}\n`;
  return files;
}
