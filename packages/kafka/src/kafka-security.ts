import { readFileSync } from "node:fs";
import type { ConnectionOptions } from "node:tls";
import type { SASLOptions } from "kafkajs";

/** The Kafka connection settings of a service's environment (the config package's `kafkaEnv`). */
export interface KafkaSecuritySettings {
  KAFKA_SSL: boolean;
  KAFKA_SSL_CA_FILE?: string | undefined;
  KAFKA_SSL_CERT_FILE?: string | undefined;
  KAFKA_SSL_KEY_FILE?: string | undefined;
  KAFKA_SASL_MECHANISM?: "plain" | "scram-sha-256" | "scram-sha-512" | undefined;
  KAFKA_SASL_USERNAME?: string | undefined;
  KAFKA_SASL_PASSWORD?: string | undefined;
  KAFKA_SASL_PASSWORD_FILE?: string | undefined;
}

export interface KafkaSecurity {
  ssl?: ConnectionOptions | boolean;
  sasl?: SASLOptions;
}

/** A misconfigured Kafka connection, naming the setting to fix; thrown at start-up, never a hang. */
export class KafkaSettingsError extends Error {
  override name = "KafkaSettingsError";
}

function readSetting(setting: string, path: string, read: (path: string) => string): string {
  try {
    return read(path);
  } catch (err) {
    throw new KafkaSettingsError(`${setting}: cannot read ${path} (${err instanceof Error ? err.message : String(err)})`);
  }
}

/**
 * TLS and SASL options for kafkajs from the environment's settings: files (CA, client certificate
 * and key, password) are read once, here, so a wrong path fails start-up with the setting's name.
 */
export function kafkaSecurityFrom(s: KafkaSecuritySettings, read: (path: string) => string = (p) => readFileSync(p, "utf8")): KafkaSecurity {
  const security: KafkaSecurity = {};
  const tlsFiles = [s.KAFKA_SSL_CA_FILE, s.KAFKA_SSL_CERT_FILE, s.KAFKA_SSL_KEY_FILE].some((f) => f !== undefined);
  if (tlsFiles && !s.KAFKA_SSL) throw new KafkaSettingsError("KAFKA_SSL: must be true when KAFKA_SSL_CA_FILE, KAFKA_SSL_CERT_FILE or KAFKA_SSL_KEY_FILE is set");
  if ((s.KAFKA_SSL_CERT_FILE === undefined) !== (s.KAFKA_SSL_KEY_FILE === undefined)) {
    throw new KafkaSettingsError("KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE: set both (a client certificate and its key) or neither");
  }
  if (s.KAFKA_SSL) {
    security.ssl = tlsFiles
      ? {
          ...(s.KAFKA_SSL_CA_FILE ? { ca: [readSetting("KAFKA_SSL_CA_FILE", s.KAFKA_SSL_CA_FILE, read)] } : {}),
          ...(s.KAFKA_SSL_CERT_FILE ? { cert: readSetting("KAFKA_SSL_CERT_FILE", s.KAFKA_SSL_CERT_FILE, read) } : {}),
          ...(s.KAFKA_SSL_KEY_FILE ? { key: readSetting("KAFKA_SSL_KEY_FILE", s.KAFKA_SSL_KEY_FILE, read) } : {}),
        }
      : true;
  }
  const mechanism = s.KAFKA_SASL_MECHANISM;
  const credentials = [s.KAFKA_SASL_USERNAME, s.KAFKA_SASL_PASSWORD, s.KAFKA_SASL_PASSWORD_FILE].some((v) => v !== undefined);
  if (!mechanism) {
    if (credentials) throw new KafkaSettingsError("KAFKA_SASL_MECHANISM: set it (plain, scram-sha-256 or scram-sha-512) to use KAFKA_SASL_USERNAME and a password");
    return security;
  }
  if (!s.KAFKA_SASL_USERNAME) throw new KafkaSettingsError(`KAFKA_SASL_USERNAME: required with KAFKA_SASL_MECHANISM=${mechanism}`);
  if ((s.KAFKA_SASL_PASSWORD === undefined) === (s.KAFKA_SASL_PASSWORD_FILE === undefined)) {
    throw new KafkaSettingsError(`KAFKA_SASL_PASSWORD or KAFKA_SASL_PASSWORD_FILE: exactly one is required with KAFKA_SASL_MECHANISM=${mechanism}`);
  }
  const password = s.KAFKA_SASL_PASSWORD ?? readSetting("KAFKA_SASL_PASSWORD_FILE", s.KAFKA_SASL_PASSWORD_FILE ?? "", read).trim();
  security.sasl = { mechanism, username: s.KAFKA_SASL_USERNAME, password };
  return security;
}
