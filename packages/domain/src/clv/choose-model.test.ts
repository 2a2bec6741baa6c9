import { describe, expect, it } from "vitest";

import { chooseModel, type ModelCandidate } from "./choose-model.js";

const bg = (mae: number | undefined, rejected?: string): ModelCandidate => ({ model: "bgnbd", mae, rejected });
const pnbd = (mae: number | undefined, rejected?: string): ModelCandidate => ({ model: "paretonbd", mae, rejected });

describe("chooseModel", () => {
  it("auto picks the lower holdout error, either way round, and says both errors", () => {
    expect(chooseModel({ setting: "auto", candidates: [bg(0.61), pnbd(0.58)] })).toEqual({
      model: "paretonbd",
      why: "CLV_MODEL=auto, lower holdout MAE: paretonbd (holdout MAE 0.5800) against bgnbd (holdout MAE 0.6100)",
    });
    expect(chooseModel({ setting: "auto", candidates: [pnbd(0.7), bg(0.61)] }).model).toBe("bgnbd");
  });

  it("auto never picks a rejected candidate, even with the lower error, and records the rejection", () => {
    const choice = chooseModel({ setting: "auto", candidates: [bg(0.61), pnbd(0.1, "did not converge")] });
    expect(choice.model).toBe("bgnbd");
    expect(choice.why).toBe("CLV_MODEL=auto, the only accepted candidate: bgnbd (holdout MAE 0.6100); paretonbd was rejected: did not converge");
  });

  it("auto keeps the previous model when every candidate was rejected", () => {
    const choice = chooseModel({ setting: "auto", candidates: [bg(0.5, "at a parameter bound"), pnbd(0.4, "did not converge")] });
    expect(choice.model).toBeUndefined();
    expect(choice.why).toContain("previous model stays");
  });

  it("auto prefers evidence: a candidate with a holdout error beats one without; none at all or a tie gives BG/NBD", () => {
    expect(chooseModel({ setting: "auto", candidates: [bg(undefined), pnbd(0.9)] }).model).toBe("paretonbd");
    const none = chooseModel({ setting: "auto", candidates: [pnbd(undefined), bg(undefined)] });
    expect(none.model).toBe("bgnbd");
    expect(none.why).toContain("no holdout error to compare");
    expect(chooseModel({ setting: "auto", candidates: [pnbd(0.5), bg(0.5)] }).model).toBe("bgnbd");
  });

  it("a fixed setting wins over a lower error elsewhere", () => {
    const choice = chooseModel({ setting: "bgnbd", candidates: [bg(0.9), pnbd(0.2)] });
    expect(choice).toEqual({ model: "bgnbd", why: "CLV_MODEL=bgnbd: bgnbd (holdout MAE 0.9000); not compared: paretonbd (holdout MAE 0.2000)" });
    expect(chooseModel({ setting: "paretonbd", candidates: [bg(0.1), pnbd(0.9)] }).model).toBe("paretonbd");
  });

  it("a fixed setting whose model was rejected chooses nothing: the previous model stays, the other model is not switched in", () => {
    const choice = chooseModel({ setting: "paretonbd", candidates: [bg(0.3), pnbd(0.2, "log-likelihood is not finite")] });
    expect(choice).toEqual({
      model: undefined,
      why: "CLV_MODEL=paretonbd, but its fit was rejected (log-likelihood is not finite); the previous model stays (the setting is not overridden)",
    });
    expect(chooseModel({ setting: "paretonbd", candidates: [bg(0.3)] }).model).toBeUndefined();
  });

  it("rejects inputs that are bugs: a model twice, a negative or non-finite error", () => {
    expect(() => chooseModel({ setting: "auto", candidates: [bg(0.3), bg(0.4)] })).toThrow(RangeError);
    expect(() => chooseModel({ setting: "auto", candidates: [bg(Number.NaN)] })).toThrow(RangeError);
    expect(() => chooseModel({ setting: "auto", candidates: [bg(-1)] })).toThrow(RangeError);
  });
});
