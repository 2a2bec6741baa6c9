// Everything the bench starts or makes is registered here the moment it exists (before it is
// ready), and removed in reverse order: at the normal end, after an error, and on SIGINT/SIGTERM.

export interface Teardown {
  /**
   * Registers a clean-up step; returns a function that runs it now instead of at the end (once).
   * A step registered while the teardown is already running runs at once.
   */
  add(name: string, step: () => Promise<unknown>): () => Promise<void>;
  /** Runs every step still registered, newest first; each failure is reported and skipped. */
  runAll(): Promise<void>;
  /** True once a signal or the end started the teardown: phases stop waiting for work. */
  readonly stopping: boolean;
}

const STEP_TIMEOUT_MS = 60_000;

async function runStep(name: string, step: () => Promise<unknown>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`did not finish within ${STEP_TIMEOUT_MS / 1000} s`)), STEP_TIMEOUT_MS);
  });
  try {
    await Promise.race([step(), timeout]);
  } catch (err) {
    console.error(`[bench] clean-up step "${name}" failed:`, err instanceof Error ? err.message : err);
  } finally {
    clearTimeout(timer);
  }
}

export function createTeardown(): Teardown {
  const steps = new Map<number, { name: string; step: () => Promise<unknown> }>();
  const late = new Set<Promise<void>>();
  let next = 0;
  let stopping = false;

  const runOne = async (id: number) => {
    const s = steps.get(id);
    if (!s) return;
    steps.delete(id);
    await runStep(s.name, s.step);
  };

  return {
    get stopping() {
      return stopping;
    },
    add(name, step) {
      const id = next++;
      steps.set(id, { name, step });
      if (stopping) {
        const p = runOne(id);
        late.add(p);
        void p.finally(() => late.delete(p));
      }
      return () => runOne(id);
    },
    async runAll() {
      stopping = true;
      while (steps.size > 0) {
        const newest = Math.max(...steps.keys());
        await runOne(newest);
      }
      await Promise.all(late);
    },
  };
}

/**
 * Ctrl-C (SIGINT) and SIGTERM run the teardown, then exit with 128 + the signal number. A second
 * signal exits at once and says what may be left.
 */
export function exitOnSignals(teardown: Teardown, say: (line: string) => void): void {
  let exiting = false;
  const on = (signal: NodeJS.Signals, code: number) =>
    process.on(signal, () => {
      if (exiting) {
        say(`${signal} again: exiting without finishing the clean-up (databases lifecycle_bench_*, topics bench-*, Redis keys bench-* may be left)`);
        process.exit(code);
      }
      exiting = true;
      say(`${signal}: stopping everything the bench started and removing what it made …`);
      void teardown.runAll().finally(() => {
        say("clean-up done");
        process.exit(code);
      });
    });
  on("SIGINT", 130);
  on("SIGTERM", 143);
}
