import { afterAll } from "vitest";
import type { Pool } from "@lifecycle/db";
import { EngineSettings } from "@lifecycle/domain";
import { describe, expect, test } from "@lifecycle/testkit";
import { createApiHarness, createTestIngest, ev, purchase, type ApiHarness, type TestIngest } from "../test-support/api-harness.js";

// CLV, CAC and CLV:CAC per acquisition channel in GET /v1/metrics?groupBy=channel (issue 13),
// with a margin of 0.3, on customers made through the ingest path. Every figure by hand:
//
// channel  customer  acquisitionCost  bought  historical CLV (× 0.3)
// ads      a1        20               100     30
// ads      a2        20               —       0      (acquired and paid for, never bought)
// search   s1        5                50      15     (exactly 3:1: healthy)
// (none)   n1        —                10      3
// old      o1        10               40      12     (first seen before the period: counted, not acquired in it)

const NOW = new Date("2025-06-01T00:00:00Z");
const PERIOD = "from=2025-05-01T00:00:00Z&to=2025-06-01T00:00:00Z";

let h: ApiHarness;
let pool: Pool;
let apply: TestIngest;

const registered = (who: string, time: string, acquisitionChannel: string, acquisitionCost: string) => ev(who, "customer.registered", time, { acquisitionChannel, acquisitionCost });
const metrics = (query: string) => h.app.inject({ method: "GET", url: `/v1/metrics?${query}`, headers: h.auth(h.keys.read) });

describe("GET /v1/metrics?groupBy=channel: CLV, CAC and CLV:CAC per acquisition channel", () => {
  test.beforeAll(async ({ infra, database }) => {
    pool = database.pool;
    h = await createApiHarness({ infra, pool });
    apply = createTestIngest({ pool, now: NOW, settings: EngineSettings.parse({ clv: { margin: 0.3 } }) });
    await apply(registered("o1", "2025-03-01T10:00:00Z", "old", "10"), purchase("o1", "2025-03-02T10:00:00Z", "40.00"));
    await apply(registered("a1", "2025-05-01T10:00:00Z", "ads", "20"), purchase("a1", "2025-05-02T10:00:00Z", "100.00"));
    await apply(registered("a2", "2025-05-03T10:00:00Z", "ads", "20"));
    await apply(registered("s1", "2025-05-04T10:00:00Z", "search", "5"), purchase("s1", "2025-05-05T10:00:00Z", "50.00"));
    await apply(purchase("n1", "2025-05-06T10:00:00Z", "10.00"));
  });
  afterAll(async () => {
    await h?.close();
  });

  test("per channel: customers, average CLV, average CAC, the ratio of the sums and the 3:1 flag", async () => {
    const r = await metrics(`groupBy=channel&${PERIOD}`);
    expect(r.statusCode).toBe(200);
    expect(r.json<{ channels: unknown }>().channels).toEqual([
      // (30 + 0) / 2 = 15 CLV, 40 / 2 = 20 CAC; 30 ÷ 40 = 0.75: under 3:1.
      { channel: "ads", customers: 2, acquiredInPeriod: 2, averageClv: "15.00", cac: "20.00", clvCacRatio: 0.75, belowThreeToOne: true },
      // 12 ÷ 10 = 1.2; first seen in March, before the period.
      { channel: "old", customers: 1, acquiredInPeriod: 0, averageClv: "12.00", cac: "10.00", clvCacRatio: 1.2, belowThreeToOne: true },
      // 15 ÷ 5 = 3 exactly: on the line is healthy.
      { channel: "search", customers: 1, acquiredInPeriod: 1, averageClv: "15.00", cac: "5.00", clvCacRatio: 3, belowThreeToOne: false },
      // Nothing spent: no ratio, no flag.
      { channel: "(none)", customers: 1, acquiredInPeriod: 1, averageClv: "3.00", cac: "0.00", clvCacRatio: null, belowThreeToOne: null },
    ]);
  });

  test("the customers counted are those first seen before `to`", async () => {
    const r = await metrics("groupBy=channel&from=2025-04-01T00:00:00Z&to=2025-05-03T00:00:00Z");
    // o1 and a1 (a2 registers on 05-03, at `to`: not yet); a1's purchase is counted at its current value.
    expect(r.json<{ channels: { channel: string; customers: number }[] }>().channels.map((c) => [c.channel, c.customers])).toEqual([
      ["ads", 1],
      ["old", 1],
    ]);
  });

  test("other groupings carry no channels", async () => {
    for (const groupBy of ["stage", "none"]) {
      const r = await metrics(`groupBy=${groupBy}&${PERIOD}`);
      expect(r.statusCode).toBe(200);
      expect(r.json<{ channels: unknown }>().channels, groupBy).toBeNull();
    }
  });
});
