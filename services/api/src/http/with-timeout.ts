/**
 * Rejects when `promise` has not settled within `ms`. The API's producer is idempotent and
 * kafkajs retries an idempotent send without end: without a bound a broker outage hangs the request.
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, what = "Kafka did not confirm"): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
