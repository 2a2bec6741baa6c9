import { describe, expect, it } from "vitest";

import { ageAtPAliveThreshold, conditionalExpectedTransactions, expectedTransactions, fitBgNbd, pAlive, type BgNbdParams } from "./bgnbd.js";
import { loadCdnowSample } from "./cdnow-fixture.test-support.js";
import { countModel, fitCountModel } from "./count-model.js";
import { paretoNbdConditionalExpectedTransactions, paretoNbdPAlive, type ParetoNbdParams } from "./pareto-nbd.js";

const BG: BgNbdParams = { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 };
const PNBD: ParetoNbdParams = { r: 0.553, alpha: 10.578, s: 0.606, beta: 11.669 };
const C1516 = { x: 26, tx: 30.85714, T: 31 };

describe("countModel", () => {
  it("gives BG/NBD's own numbers through the interface (the BTYD checks of section 2(a))", () => {
    const btyd = { r: 0.2425982, alpha: 4.413684, a: 0.7929899, b: 2.426167 };
    const model = countModel({ kind: "bgnbd", params: btyd });
    expect(model.expected(52)).toBeCloseTo(1.444004, 5);
    expect(model.conditionalExpected(C1516, 52)).toBeCloseTo(25.7566, 3);
    expect(model.pAlive(C1516)).toBeCloseTo(0.96885, 5);
    expect(model.pAlive(C1516)).toBe(pAlive({ params: btyd, ...C1516 }));
    expect(model.expected(39)).toBe(expectedTransactions({ params: btyd, t: 39 }));
    expect(model.expectedIfAlive(C1516, 52) * model.pAlive(C1516)).toBeCloseTo(conditionalExpectedTransactions({ params: btyd, ...C1516, t: 52 }), 12);
    expect(model.ageAtPAliveThreshold({ x: 0, tx: 0 }, 0.5)).toBeUndefined();
    expect(model.ageAtPAliveThreshold({ x: 2, tx: 30 }, 0.5)).toBe(ageAtPAliveThreshold({ params: btyd, x: 2, tx: 30, threshold: 0.5 }));
  });

  it("gives Pareto/NBD's numbers through the same interface, and the two models differ", () => {
    const model = countModel({ kind: "paretonbd", params: PNBD });
    expect(model.pAlive(C1516)).toBe(paretoNbdPAlive({ params: PNBD, ...C1516 }));
    expect(model.conditionalExpected(C1516, 52)).toBe(paretoNbdConditionalExpectedTransactions({ params: PNBD, ...C1516, t: 52 }));
    expect(model.pAlive(C1516)).not.toBeCloseTo(countModel({ kind: "bgnbd", params: BG }).pAlive(C1516), 2);
    const age = model.ageAtPAliveThreshold({ x: 0, tx: 0 }, 0.5);
    expect(age).toBeGreaterThan(0);
    expect(model.pAlive({ x: 0, tx: 0, T: age ?? Number.NaN })).toBeCloseTo(0.5, 9);
    expect(model.spec).toEqual({ kind: "paretonbd", params: PNBD });
  });
});

describe("fitCountModel on the CDNOW sample", () => {
  const sample = loadCdnowSample();

  it("fits BG/NBD exactly as fitBgNbd does", () => {
    const direct = fitBgNbd({ customers: sample });
    const fit = fitCountModel({ kind: "bgnbd", customers: sample });
    expect(fit.model.spec).toEqual({ kind: "bgnbd", params: { r: direct.r, alpha: direct.alpha, a: direct.a, b: direct.b } });
    expect(fit).toMatchObject({ logLikelihood: direct.logLikelihood, converged: true, sampleSize: 2357, iterations: direct.iterations });
  });

  it("fits Pareto/NBD to the published LL, a little below BG/NBD's (−9595.0 against −9582.4)", () => {
    const fit = fitCountModel({ kind: "paretonbd", customers: sample });
    expect(fit.model.spec.kind).toBe("paretonbd");
    expect(fit.converged).toBe(true);
    expect(fit.logLikelihood).toBeCloseTo(-9595.0, 1);
  });
});
