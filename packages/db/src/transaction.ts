import type pg from "pg";
import type { Pool } from "./pool.js";

/**
 * Runs `fn` in a transaction on one pooled client: COMMIT if it resolves, ROLLBACK if it throws.
 */
export async function withTransaction<T>(pool: Pool, fn: (tx: pg.PoolClient) => Promise<T>): Promise<T> {
  return withClient(pool, (client) => inTransaction(client, fn));
}

/**
 * Runs `fn` with one pooled client held throughout (for session state such as an advisory lock,
 * or several transactions in a row). After a failure the client is destroyed rather than pooled:
 * if the failure was a lost connection (a Postgres restart), a pooled client would fail the next
 * caller too.
 */
export async function withClient<T>(pool: Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  let failed = false;
  // A checked-out client whose connection is terminated (a Postgres restart, an admin's
  // pg_terminate_backend) emits 'error'; unheard, that crashes the process. The failure also
  // surfaces through the pending or next query, which is where we handle it.
  const onError = () => {
    failed = true;
  };
  // The listener goes on inside pool.connect's callback, in the same tick the pool hands the
  // client over: awaiting a promise first leaves a gap in which a termination notice arriving in
  // the same TCP read as the connection's ready message finds no listener at all.
  const client = await new Promise<pg.PoolClient>((resolve, reject) => {
    pool.connect((err, c) => {
      if (err || !c) return reject(err ?? new Error("pool.connect returned no client"));
      c.on("error", onError);
      resolve(c);
    });
  });
  try {
    return await fn(client);
  } catch (e) {
    failed = true;
    throw e;
  } finally {
    client.off("error", onError);
    client.release(failed);
  }
}

/** BEGIN … COMMIT on a client the caller holds (and releases), ROLLBACK if `fn` throws. */
export async function inTransaction<T>(client: pg.PoolClient, fn: (tx: pg.PoolClient) => Promise<T>): Promise<T> {
  await client.query("BEGIN");
  try {
    const result = await fn(client);
    await client.query("COMMIT");
    return result;
  } catch (e) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw e;
  }
}
