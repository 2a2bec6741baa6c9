import { randomUUID } from "node:crypto";

/** A name no other test uses: for topics, consumer groups, queues, customer ids. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}
