import { HttpProblem } from "./problem.js";

declare module "fastify" {
  interface FastifyInstance {
    /** The gate of the expensive reads (buildApp makes it from ApiDeps.limits). */
    expensiveReads: ReadGate;
  }
}

/**
 * A small limit on the API's expensive reads (the measures, the trends, the flows, the uplift):
 * each runs statements over whole tables, and a handful at once could hold every pooled
 * connection while the cheap reads wait. Past `atOnce`, a read waits up to `waitMs` for a turn,
 * then is refused with a 503 to retry, instead of queueing without end.
 */
export function createReadGate({ atOnce, waitMs }: { atOnce: number; waitMs: number }) {
  let running = 0;
  const waiting: (() => void)[] = [];

  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else running--;
  };

  const acquire = () =>
    new Promise<void>((resolve, reject) => {
      if (running < atOnce) {
        running++;
        resolve();
        return;
      }
      const turn = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        waiting.splice(waiting.indexOf(turn), 1);
        reject(new HttpProblem(503, `busy: ${atOnce} expensive reads are running (API_EXPENSIVE_READS_AT_ONCE) and this one waited ${waitMs / 1000} s; retry shortly`));
      }, waitMs);
      waiting.push(turn);
    });

  return {
    async run<T>(read: () => Promise<T>): Promise<T> {
      await acquire();
      try {
        return await read();
      } finally {
        release();
      }
    },
  };
}
export type ReadGate = ReturnType<typeof createReadGate>;
