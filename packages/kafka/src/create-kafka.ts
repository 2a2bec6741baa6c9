import { Kafka, logLevel, type LogEntry, type logCreator } from "kafkajs";
import type { Logger } from "@lifecycle/logging";
import { kafkaSecurityFrom, type KafkaSecurity, type KafkaSecuritySettings } from "./kafka-security.js";

export interface CreateKafkaOptions {
  brokers: string[];
  clientId: string;
  logger: Logger;
  /** TLS and SASL (see `kafkaSecurityFrom`); none: plaintext. */
  security?: KafkaSecurity;
}

const LEVELS: Record<number, "error" | "warn" | "info" | "debug"> = {
  [logLevel.ERROR]: "error",
  [logLevel.WARN]: "warn",
  [logLevel.INFO]: "info",
  [logLevel.DEBUG]: "debug",
};

/** Routes kafkajs's own logging into the process's pino logger, as structured fields. */
function pinoLogCreator(logger: Logger): logCreator {
  const log = logger.child({ module: "kafkajs" });
  return () =>
    ({ level, log: { message, ...extra } }: LogEntry) => {
      log[LEVELS[level] ?? "info"](extra, message);
    };
}

export function createKafka({ brokers, clientId, logger, security = {} }: CreateKafkaOptions): Kafka {
  return new Kafka({
    clientId,
    brokers,
    ...security,
    logLevel: logLevel.WARN,
    logCreator: pinoLogCreator(logger),
    // Retries for a broker that is briefly away; a longer outage surfaces as an error the
    // caller handles (pause and retry), never as lost data.
    retry: { retries: 8, initialRetryTime: 300, maxRetryTime: 30_000 },
  });
}

/** A service's Kafka client as its environment configures it (brokers, client id, TLS, SASL). */
export function createKafkaFromSettings(
  settings: KafkaSecuritySettings & { KAFKA_BROKERS: string[]; KAFKA_CLIENT_ID: string },
  { clientId, logger }: { clientId: string; logger: Logger },
): Kafka {
  return createKafka({ brokers: settings.KAFKA_BROKERS, clientId: `${settings.KAFKA_CLIENT_ID}-${clientId}`, logger, security: kafkaSecurityFrom(settings) });
}
