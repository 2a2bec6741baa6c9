/** What a promise rejects with; fails the test if it resolves. For asserting a channel's errors. */
export async function sendError(send: Promise<unknown>): Promise<unknown> {
  try {
    await send;
  } catch (err) {
    return err;
  }
  throw new Error("expected send to fail");
}
