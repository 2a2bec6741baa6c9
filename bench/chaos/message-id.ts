/**
 * The first `"id":"…"` in a message's bytes: a CloudEvent's id, read without parsing, so broken
 * JSON (a dead letter of bad input) still shows which item it was.
 */
export function messageId(value: string): string | undefined {
  return /"id":"([^"]+)"/.exec(value)?.[1];
}
