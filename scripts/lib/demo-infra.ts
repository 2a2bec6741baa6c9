import { execFileSync } from "node:child_process";
import { Socket } from "node:net";

/** True if something accepts TCP connections on host:port. */
export function portOpen(host: string, port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("error", () => done(false));
    socket.connect(port, host, () => done(true));
  });
}

function run(args: string[], env: NodeJS.ProcessEnv = process.env): string {
  return execFileSync("bash", args, { env, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim();
}

/**
 * Makes Kafka, Postgres and Redis available for the demo. Explicit URLs are used as given; a
 * broker already answering on 127.0.0.1:9092 (docker compose, `npm run kafka:start`) is reused;
 * otherwise a real broker is started from Maven artifacts and stopped again by `stop()`.
 */
export async function ensureDemoInfra({ kafkaExplicit, log }: { kafkaExplicit: boolean; log: (line: string) => void }) {
  run(["infra/local-infra.sh", "services"]).split("\n").forEach((l) => log(l));
  let startedKafka = false;
  if (kafkaExplicit) log("kafka: using KAFKA_BROKERS from the environment");
  else if (await portOpen("127.0.0.1", 9092)) log("kafka: a broker already answers on 127.0.0.1:9092; using it");
  else {
    log("kafka: starting a broker from Maven artifacts (the first run downloads them)...");
    run(["infra/kafka/kafka.sh", "start"]).split("\n").forEach((l) => log(l));
    startedKafka = true;
  }
  return {
    stop() {
      if (startedKafka) run(["infra/kafka/kafka.sh", "stop"]).split("\n").forEach((l) => log(l));
    },
  };
}
