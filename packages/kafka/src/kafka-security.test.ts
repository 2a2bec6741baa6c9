import { describe, expect, it } from "vitest";
import { KafkaSettingsError, kafkaSecurityFrom } from "./kafka-security.js";

// The environment's Kafka security settings to kafkajs options, with an in-memory file reader.
const files: Record<string, string> = { "/ca.pem": "CA", "/c.pem": "CERT", "/k.pem": "KEY", "/pw": "s3cret\n" };
const read = (path: string) => {
  const content = files[path];
  if (content === undefined) throw new Error("ENOENT: no such file");
  return content;
};
const from = (s: Record<string, unknown>) => kafkaSecurityFrom({ KAFKA_SSL: false, ...s }, read);

describe("Kafka TLS and SASL from the environment", () => {
  it("is plaintext by default", () => {
    expect(from({})).toEqual({});
  });

  it("TLS with the system CAs, or with a CA file and a client certificate", () => {
    expect(from({ KAFKA_SSL: true })).toEqual({ ssl: true });
    expect(from({ KAFKA_SSL: true, KAFKA_SSL_CA_FILE: "/ca.pem", KAFKA_SSL_CERT_FILE: "/c.pem", KAFKA_SSL_KEY_FILE: "/k.pem" })).toEqual({ ssl: { ca: ["CA"], cert: "CERT", key: "KEY" } });
  });

  it("SASL SCRAM with a password from the environment or from a file", () => {
    expect(from({ KAFKA_SASL_MECHANISM: "scram-sha-512", KAFKA_SASL_USERNAME: "ingest", KAFKA_SASL_PASSWORD: "pw" })).toEqual({ sasl: { mechanism: "scram-sha-512", username: "ingest", password: "pw" } });
    expect(from({ KAFKA_SSL: true, KAFKA_SASL_MECHANISM: "plain", KAFKA_SASL_USERNAME: "u", KAFKA_SASL_PASSWORD_FILE: "/pw" })).toEqual({ ssl: true, sasl: { mechanism: "plain", username: "u", password: "s3cret" } });
  });

  it("names the setting to fix", () => {
    const fails = (s: Record<string, unknown>, setting: string) => {
      expect(() => from(s)).toThrow(KafkaSettingsError);
      expect(() => from(s)).toThrow(setting);
    };
    fails({ KAFKA_SSL: true, KAFKA_SSL_CA_FILE: "/missing.pem" }, "KAFKA_SSL_CA_FILE: cannot read /missing.pem");
    fails({ KAFKA_SSL_CA_FILE: "/ca.pem" }, "KAFKA_SSL: must be true");
    fails({ KAFKA_SSL: true, KAFKA_SSL_CERT_FILE: "/c.pem" }, "KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE");
    fails({ KAFKA_SASL_USERNAME: "u", KAFKA_SASL_PASSWORD: "p" }, "KAFKA_SASL_MECHANISM");
    fails({ KAFKA_SASL_MECHANISM: "plain", KAFKA_SASL_PASSWORD: "p" }, "KAFKA_SASL_USERNAME");
    fails({ KAFKA_SASL_MECHANISM: "plain", KAFKA_SASL_USERNAME: "u" }, "KAFKA_SASL_PASSWORD or KAFKA_SASL_PASSWORD_FILE");
    fails({ KAFKA_SASL_MECHANISM: "plain", KAFKA_SASL_USERNAME: "u", KAFKA_SASL_PASSWORD: "p", KAFKA_SASL_PASSWORD_FILE: "/pw" }, "exactly one");
  });
});
