/**
 * Rejects with `timedOut()` when `promise` has not settled within `ms`. The API's producer is
 * idempotent and kafkajs retries an idempotent send without end, and a Redis command waits out an
 * outage: without a bound, either hangs the request.
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, timedOut: () => Error = () => new Error(`Kafka did not confirm within ${ms} ms`)): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(timedOut()), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
