// A minimal server-sent-events reader over fetch, as the dashboard reads the alert stream
// (EventSource cannot send an Authorization header). For the route and end-to-end tests.

export interface ServerSentEvent {
  event?: string;
  id?: string;
  data?: string;
  /** Comment lines (`: ...`), e.g. heartbeats. */
  comments: string[];
}

function parseBlock(block: string): ServerSentEvent {
  const e: ServerSentEvent = { comments: [] };
  for (const line of block.split("\n")) {
    if (line.startsWith(":")) {
      e.comments.push(line.slice(1).trim());
      continue;
    }
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "event") e.event = value;
    else if (field === "id") e.id = value;
    else if (field === "data") e.data = e.data === undefined ? value : `${e.data}\n${value}`;
  }
  return e;
}

/** Opens the stream with fetch and collects its events in the background until it ends or `close()`. */
export async function openEventStream(url: string, headers: Record<string, string> = {}) {
  const controller = new AbortController();
  const response = await fetch(url, { headers: { accept: "text/event-stream", ...headers }, signal: controller.signal });
  const events: ServerSentEvent[] = [];
  let ended = false;
  const body = response.body;
  const pump = (async () => {
    if (!body || !response.ok) return;
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const chunk: { done: boolean; value?: unknown } = await reader.read();
      if (chunk.done) return;
      if (!(chunk.value instanceof Uint8Array)) throw new Error("the stream sent something other than bytes");
      buffer += decoder.decode(chunk.value, { stream: true });
      for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
        events.push(parseBlock(buffer.slice(0, end)));
        buffer = buffer.slice(end + 2);
      }
    }
  })()
    .catch(() => undefined)
    .finally(() => {
      ended = true;
    });
  return {
    response,
    events,
    /** Alerts only (blocks with an `event:` field), not comments. */
    alerts: () => events.filter((e) => e.event !== undefined),
    isEnded: () => ended,
    ended: pump,
    close: async () => {
      controller.abort();
      await pump;
    },
  };
}
export type EventStream = Awaited<ReturnType<typeof openEventStream>>;
