import type { Kafka } from "kafkajs";
import { KafkaSettingsError } from "./kafka-security.js";

const TLS_TRUST = /self[- ]signed certificate|unable to verify|unable to get (local )?issuer|certificate has expired|altnames|Hostname\/IP does not match/i;

/** Which setting a failure to reach the cluster points at, with kafkajs's own words in brackets. */
const prop = (value: unknown, key: string): unknown => (typeof value === "object" && value !== null ? Reflect.get(value, key) : undefined);

function explain(err: unknown): string {
  // kafkajs wraps the last attempt's error (originalError, cause); the innermost one says what happened.
  const chain = [err];
  for (let next = prop(err, "originalError") ?? prop(err, "cause"); next !== undefined && !chain.includes(next) && chain.length < 10; next = prop(next, "originalError") ?? prop(next, "cause")) {
    chain.push(next);
  }
  const inner = chain[chain.length - 1];
  const message = inner instanceof Error ? inner.message : String(inner);
  if (chain.some((e) => prop(e, "name") === "KafkaJSSASLAuthenticationError") || /SASL .*authentication failed/i.test(message)) {
    return `KAFKA_SASL_USERNAME / KAFKA_SASL_PASSWORD (or KAFKA_SASL_PASSWORD_FILE): the broker refused the credentials (${message})`;
  }
  if (TLS_TRUST.test(message)) return `KAFKA_SSL_CA_FILE: the broker's certificate is not trusted (${message})`;
  return `KAFKA_BROKERS: could not talk to the cluster; check the addresses, KAFKA_SSL and KAFKA_SASL_MECHANISM against the listener (${message})`;
}

/**
 * Start-up check: an admin connection and a metadata request, within `timeoutMs`. Wrong
 * credentials or an untrusted certificate become an error naming the setting to fix, where the
 * consumer would otherwise crash later with a kafkajs stack (or retry for minutes).
 */
export async function verifyKafka(kafka: Kafka, { timeoutMs = 30_000 }: { timeoutMs?: number } = {}): Promise<void> {
  const admin = kafka.admin({ retry: { retries: 2, initialRetryTime: 300, maxRetryTime: 2_000 } });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      (async () => {
        await admin.connect();
        await admin.describeCluster();
      })(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } catch (err) {
    throw new KafkaSettingsError(explain(err), { cause: err });
  } finally {
    clearTimeout(timer);
    await admin.disconnect().catch(() => undefined);
  }
}
