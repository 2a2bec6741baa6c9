// `COPY … FROM STDIN` through node-postgres without another dependency: a submittable query that
// answers the server's CopyInResponse with the data and CopyDone (what pg-copy-streams does, for
// one buffer). The driver's Connection has these methods; its type declarations do not list them.
import type pg from "pg";

interface CopyConnection {
  query(text: string): void;
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
}

function canCopy(c: unknown): c is CopyConnection {
  return typeof c === "object" && c !== null && "sendCopyFromChunk" in c && typeof c.sendCopyFromChunk === "function" && "endCopyFrom" in c && typeof c.endCopyFrom === "function";
}

class CopyFromBuffer implements pg.Submittable {
  private error: Error | undefined;
  rows = 0;
  readonly done: Promise<number>;
  private settle: { resolve: (rows: number) => void; reject: (err: Error) => void } | undefined;

  constructor(
    private readonly sql: string,
    private readonly data: Buffer,
  ) {
    this.done = new Promise((resolve, reject) => (this.settle = { resolve, reject }));
  }

  submit(connection: pg.Connection): void {
    if (!canCopy(connection)) throw new Error("this pg version's Connection cannot COPY FROM STDIN");
    connection.query(this.sql);
  }
  handleCopyInResponse(connection: unknown): void {
    if (!canCopy(connection)) return;
    connection.sendCopyFromChunk(this.data);
    connection.endCopyFrom();
  }
  handleCommandComplete(msg: { text?: string }): void {
    this.rows = Number(/COPY (\d+)/.exec(msg.text ?? "")?.[1] ?? 0);
  }
  handleError(err: Error): void {
    this.error = err;
  }
  handleReadyForQuery(): void {
    if (this.error) this.settle?.reject(this.error);
    else this.settle?.resolve(this.rows);
  }
  // Not sent for COPY; the driver calls them only for row-returning statements.
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
}

/** Runs `COPY <table> FROM STDIN` (text format) with `data` on `client`; resolves with the rows copied. */
export async function copyFrom(client: pg.Client, sql: string, data: Buffer): Promise<number> {
  const copy = new CopyFromBuffer(sql, data);
  void client.query(copy);
  return copy.done;
}

/** A value for COPY's text format: backslash, tab, newline and carriage return escaped. */
export function copyText(value: string): string {
  return value.replace(/[\\\t\n\r]/g, (c) => (c === "\\" ? "\\\\" : c === "\t" ? "\\t" : c === "\n" ? "\\n" : "\\r"));
}
