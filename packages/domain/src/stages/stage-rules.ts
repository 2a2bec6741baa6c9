import { z } from "zod";

/**
 * The thresholds of CONTRACT.md section 2. Every one is configuration (see `STAGE_*` in the
 * services' config); these defaults are the contract's.
 */
export const StageRules = z
  .object({
    /** Days without a purchase after which a customer is at risk (when the model cannot judge). */
    atRiskAfterDays: z.number().positive().default(90),
    /** Days without a purchase after which a customer has churned. */
    churnAfterDays: z.number().positive().default(180),
    /** How long a negative signal (bad score, unanswered or reopened ticket) keeps a customer at risk. */
    negativeSignalDays: z.number().positive().default(30),
    /** First-response target for tickets; a ticket unanswered past it is a negative signal. */
    responseTargetMinutes: z.number().positive().default(120),
    /**
     * Once a BG/NBD model is fitted, a repeat buyer's own rhythm replaces the fixed at-risk window:
     * at risk when P(alive) falls below this. One-time buyers keep the window (their P(alive) is 1
     * by construction, so the model cannot judge them).
     */
    pAliveThreshold: z.number().gt(0).lt(1).default(0.5),
    detractorMaxScore: z.number().int().min(0).max(10).default(6),
    lowCsatMaxScore: z.number().int().min(1).max(5).default(2),
    highCesMinScore: z.number().int().min(1).max(7).default(6),
  })
  .refine((r) => r.churnAfterDays > r.atRiskAfterDays, { message: "churnAfterDays must be greater than atRiskAfterDays", path: ["churnAfterDays"] });
export type StageRules = z.infer<typeof StageRules>;

export const DEFAULT_STAGE_RULES: StageRules = StageRules.parse({});
