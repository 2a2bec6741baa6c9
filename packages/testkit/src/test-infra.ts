/** Where the integration tests' Kafka, Postgres and Redis come from, chosen once per run. */
export interface TestInfra {
  /** One line naming the provider of each service, printed at the start of the run. */
  description: string;
  kafka: { provider: Provider; brokers: string[] };
  /** A URL for the server's maintenance database; tests create (and drop) their own databases. */
  postgres: { provider: Provider; adminUrl: string };
  redis: { provider: Provider; url: string };
}

export type Provider = "env" | "testcontainers" | "local";

export interface RunningInfra {
  infra: TestInfra;
  /** Stops whatever this run started; leaves alone what it found running. */
  stop(): Promise<void>;
}

declare module "vitest" {
  export interface ProvidedContext {
    infra: TestInfra;
  }
}
