import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { createInterface } from "node:readline";
import { pipeline, type Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { createCdnowMapper, parseCdnowLine } from "@lifecycle/events";

export type FileFormat = "jsonl" | "cdnow";

/**
 * The file's text: gunzipped when it is gzip (by its magic bytes, whatever its name), as the
 * archives retention writes are (`<partition>.<stamp>.jsonl.gz`).
 */
async function openText(path: string): Promise<Readable> {
  const handle = await open(path, "r");
  const { buffer, bytesRead } = await handle.read(Buffer.alloc(2), 0, 2, 0).finally(() => handle.close());
  const raw = createReadStream(path);
  if (bytesRead < 2 || buffer[0] !== 0x1f || buffer[1] !== 0x8b) return raw;
  // pipeline passes a read error on to the gunzipped stream (and so to its reader).
  return pipeline(raw, createGunzip(), () => undefined);
}

/** JSON lines if the first non-blank character is `{`, else the CDNOW whitespace layout. */
export async function detectFormat(path: string): Promise<FileFormat> {
  const input = await openText(path);
  try {
    for await (const line of createInterface({ input, crlfDelay: Infinity })) {
      if (line.trim()) return line.trimStart().startsWith("{") ? "jsonl" : "cdnow";
    }
    return "jsonl";
  } finally {
    input.destroy();
  }
}

export interface FileRecord {
  /** The raw JSON to produce (kept as written for JSON lines, so validation stays the consumer's). */
  value: string;
  key: string | null;
  type: string;
  /** Dollar amount for CDNOW rows, for the totals check. */
  amount?: string;
}

/**
 * Streams a file's events. JSON lines are passed through as written (bad lines included: the
 * consumer dead-letters them, which is the point of replaying real input); CDNOW rows become
 * `purchase.completed` events with deterministic ids, so a second replay is a no-op.
 */
export async function* readEventFile(path: string, format: FileFormat): AsyncGenerator<FileRecord> {
  const lines = createInterface({ input: await openText(path), crlfDelay: Infinity });
  const toEvent = createCdnowMapper();
  for await (const line of lines) {
    if (!line.trim()) continue;
    if (format === "jsonl") {
      yield { value: line, ...peek(line) };
      continue;
    }
    const row = parseCdnowLine(line);
    if (!row) continue;
    const event = toEvent(row);
    yield { value: JSON.stringify(event), key: event.subject, type: event.type, amount: row.dollars };
  }
}

/** Key and type of a JSON line, best effort (a malformed line still goes out, keyless). */
function peek(line: string): { key: string | null; type: string } {
  try {
    const parsed: unknown = JSON.parse(line);
    if (parsed && typeof parsed === "object") {
      const subject = "subject" in parsed && typeof parsed.subject === "string" ? parsed.subject : null;
      const type = "type" in parsed && typeof parsed.type === "string" ? parsed.type : "";
      return { key: subject, type };
    }
  } catch {
    // not JSON: produced as is, the consumer dead-letters it
  }
  return { key: null, type: "" };
}
