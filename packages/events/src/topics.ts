/** Default Kafka topic names (CONTRACT.md sections 1 and 4); each is overridable by configuration. */
export const TOPICS = {
  customer: "customer-events",
  purchase: "purchase-events",
  supportTicket: "support-ticket-events",
  survey: "survey-events",
  stageChanged: "lifecycle-stage-changed",
  deadLetter: "lifecycle-dlq",
} as const;

export type TopicKey = keyof typeof TOPICS;

/** The topics backend systems produce to and the lifecycle consumer reads. */
export const INPUT_TOPICS = [TOPICS.customer, TOPICS.purchase, TOPICS.supportTicket, TOPICS.survey] as const;

export type InputTopics = Record<"customer" | "purchase" | "supportTicket" | "survey", string>;

/** The INPUT_TOPICS setting (customer, purchase, support-ticket, survey, in that order) by kind; undefined unless all four are named. */
export function inputTopicsFrom(list: readonly string[]): InputTopics | undefined {
  const [customer, purchase, supportTicket, survey] = list;
  return customer && purchase && supportTicket && survey ? { customer, purchase, supportTicket, survey } : undefined;
}

/** The input topic an event of `type` belongs on (CONTRACT.md section 1). */
export function topicForType(type: string, topics: InputTopics = TOPICS): string {
  if (type.startsWith("purchase.")) return topics.purchase;
  if (type.startsWith("ticket.")) return topics.supportTicket;
  if (type.startsWith("survey.")) return topics.survey;
  return topics.customer;
}
