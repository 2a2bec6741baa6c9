import type { ReceiverChannel, Receivers } from "./receivers.js";

// Samples how many deliveries each receiver has taken, once a second: a receiver fault's recovery
// is the time from its end until deliveries on that channel resume (the worker's retries and its
// circuit's probe got through).

interface Sample {
  at: number;
  webhook: number;
  email: number;
}

const total = (m: Map<string, number>) => [...m.values()].reduce((s, n) => s + n, 0);

export function startDeliveryMonitor(receivers: Receivers, everyMs = 1_000) {
  const samples: Sample[] = [];
  const take = () => {
    const d = receivers.deliveries();
    samples.push({ at: Date.now(), webhook: total(d.webhook), email: total(d.email) });
  };
  take();
  const timer = setInterval(take, everyMs);
  return {
    /** Ms from `endedAt` until `channel` took a delivery again; undefined if it took none while sampled. */
    resumedAfterMs(channel: ReceiverChannel, endedAt: number): number | undefined {
      const before = samples.filter((s) => s.at <= endedAt).at(-1);
      if (!before) return undefined;
      const resumed = samples.find((s) => s.at > endedAt && s[channel] > before[channel]);
      return resumed ? resumed.at - endedAt : undefined;
    },
    stop() {
      clearInterval(timer);
      take();
    },
  };
}
export type DeliveryMonitor = ReturnType<typeof startDeliveryMonitor>;
