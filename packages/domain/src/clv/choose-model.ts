// Which purchase-count model the refit applies: the CLV_MODEL setting and each candidate's holdout
// error in, the choice and a sentence saying why out. Pure, so the rule is tested apart from the
// refit, and the sentence is what the model history stores and the dashboard shows.

import { COUNT_MODEL_KINDS, type CountModelKind } from "./count-model.js";

/** CLV_MODEL: a fixed model, or `auto` for the lower holdout error. */
export type ModelSetting = CountModelKind | "auto";
export const MODEL_SETTINGS: readonly ModelSetting[] = [...COUNT_MODEL_KINDS, "auto"];

/** One fitted candidate, as the refit's guard and holdout validation left it. */
export type ModelCandidate = {
  model: CountModelKind;
  /** Per-customer mean absolute error on the holdout; undefined when the holdout could not be scored. */
  mae: number | undefined;
  /** The guard's reason when the fit was rejected (did not converge, at a bound, …). */
  rejected?: string | undefined;
};

/** The model to apply, or none (the previous model stays), and why. */
export type ModelChoice = { model: CountModelKind | undefined; why: string };

// On equal evidence, BG/NBD: the model the contract names and the one every install already runs.
const PREFERENCE: readonly CountModelKind[] = ["bgnbd", "paretonbd"];

const summarize = (c: ModelCandidate): string => (c.mae === undefined ? `${c.model} (no holdout error)` : `${c.model} (holdout MAE ${c.mae.toPrecision(4)})`);

/**
 * - A rejected candidate is never chosen.
 * - A fixed setting chooses its model. If that model was rejected (or not fitted), nothing is
 *   chosen and the previous model stays: switching to the other model would override an explicit
 *   setting, and the guard already keeps the previous model for a rejected fit.
 * - `auto` chooses the lower holdout MAE among the accepted candidates; a candidate without an MAE
 *   loses to one with it; with no MAE at all (too little history for a holdout), or a tie, BG/NBD.
 */
export function chooseModel({ setting, candidates }: { setting: ModelSetting; candidates: readonly ModelCandidate[] }): ModelChoice {
  const seen = new Set<CountModelKind>();
  for (const c of candidates) {
    if (seen.has(c.model)) throw new RangeError(`chooseModel: ${c.model} appears twice`);
    if (c.mae !== undefined && !(Number.isFinite(c.mae) && c.mae >= 0)) throw new RangeError(`chooseModel: ${c.model} has MAE ${c.mae}`);
    seen.add(c.model);
  }
  const accepted = candidates.filter((c) => c.rejected === undefined);
  const rejectedNote = candidates
    .filter((c) => c.rejected !== undefined)
    .map((c) => `; ${c.model} was rejected: ${c.rejected}`)
    .join("");

  if (setting !== "auto") {
    const fixed = candidates.find((c) => c.model === setting);
    if (!fixed) return { model: undefined, why: `CLV_MODEL=${setting}, but ${setting} was not fitted; the previous model stays` };
    if (fixed.rejected !== undefined) {
      return { model: undefined, why: `CLV_MODEL=${setting}, but its fit was rejected (${fixed.rejected}); the previous model stays (the setting is not overridden)` };
    }
    const others = accepted.filter((c) => c !== fixed).map(summarize);
    return { model: setting, why: `CLV_MODEL=${setting}: ${summarize(fixed)}${others.length ? `; not compared: ${others.join(", ")}` : ""}${rejectedNote}` };
  }

  if (accepted.length === 0) return { model: undefined, why: `CLV_MODEL=auto, but no candidate was accepted${rejectedNote}; the previous model stays` };
  const rank = (c: ModelCandidate): number => PREFERENCE.indexOf(c.model);
  const [best, ...rest] = [...accepted].sort((u, v) => {
    if (u.mae !== undefined && v.mae !== undefined && u.mae !== v.mae) return u.mae - v.mae;
    if (u.mae === undefined && v.mae !== undefined) return 1;
    if (v.mae === undefined && u.mae !== undefined) return -1;
    return rank(u) - rank(v);
  });
  if (!best) throw new Error("unreachable: accepted is not empty");
  const runnerUp = rest[0];
  let reason: string;
  if (!runnerUp) reason = `the only accepted candidate: ${summarize(best)}`;
  else if (best.mae === undefined) reason = `no holdout error to compare, so the default: ${summarize(best)} over ${summarize(runnerUp)}`;
  else if (runnerUp.mae === undefined) reason = `the only one with a holdout error: ${summarize(best)} over ${summarize(runnerUp)}`;
  else if (best.mae === runnerUp.mae) reason = `equal holdout MAE, so the default: ${summarize(best)} over ${summarize(runnerUp)}`;
  else reason = `lower holdout MAE: ${summarize(best)} against ${summarize(runnerUp)}`;
  return { model: best.model, why: `CLV_MODEL=auto, ${reason}${rejectedNote}` };
}
