import { z } from "zod";
import { JsonEnv } from "@lifecycle/config";
import { EngineSettings, MODEL_SETTINGS, type ModelSetting } from "@lifecycle/domain";

const num = (d: number) => z.coerce.number().default(d);

/**
 * The engine's environment: the stage thresholds and CLV settings of CONTRACT.md sections 2–3,
 * and the clock. Spread into a service's config schema; `engineSettings()` validates the whole.
 */
export const engineEnv = {
  /** `wall` (production) or `watermark` (the latest event time seen: replays, backfills). @defaultValue wall */
  LIFECYCLE_CLOCK: z.enum(["wall", "watermark"]).default("wall"),
  STAGE_AT_RISK_DAYS: num(90),
  STAGE_CHURN_DAYS: num(180),
  STAGE_SIGNAL_DAYS: num(30),
  STAGE_RESPONSE_TARGET_MINUTES: num(120),
  STAGE_P_ALIVE_THRESHOLD: num(0.5),
  STAGE_DETRACTOR_MAX: num(6),
  STAGE_LOW_CSAT_MAX: num(2),
  STAGE_HIGH_CES_MIN: num(6),
  CLV_HORIZON_DAYS: num(365),
  CLV_MARGIN: num(1),
  CLV_DISCOUNT_RATE: num(0.1),
  CLV_LIFESPAN_YEARS: num(3),
  /** The cap on a lifespan from the measured annual churn (1 ÷ rate). @defaultValue 10 */
  CLV_MAX_LIFESPAN_YEARS: num(10),
  /**
   * Playbook overrides as JSON, merged over the defaults, e.g.
   * `{"csat-survey":{"delayMinutes":1440,"channel":"email"},"cross-sell":{"enabled":false}}`. @defaultValue {}
   */
  PLAYBOOKS: JsonEnv,
  /** Marketing follow-ups need consent: `opt-in` (granted) or `opt-out` (not withdrawn). @defaultValue opt-in */
  CONSENT_REGIME: z.enum(["opt-in", "opt-out"]).default("opt-in"),
  /** At most this many marketing messages per customer ... @defaultValue 2 */
  MARKETING_CAP_MAX: z.coerce.number().int().min(1).default(2),
  /** ... within this many days, across playbooks. @defaultValue 7 */
  MARKETING_CAP_DAYS: z.coerce.number().positive().default(7),
  /** Local hours without messages, `HH:MM-HH:MM` in the customer's time zone; `00:00-00:00`: none. @defaultValue 21:00-08:00 */
  QUIET_HOURS: z.string().regex(/^\d\d:\d\d-\d\d:\d\d$/, "HH:MM-HH:MM").default("21:00-08:00"),
  /** The time zone of customers without one. @defaultValue UTC */
  DEFAULT_TIMEZONE: z.string().min(1).default("UTC"),
  /** How often a process re-reads the newest fitted models and the measured annual churn. @defaultValue 60000 */
  CLV_MODEL_CACHE_MS: z.coerce.number().int().min(0).default(60_000),
  /** A refit's fit on fewer customers with a repeat purchase than this is rejected, not applied. @defaultValue 30 */
  CLV_MIN_REPEAT_BUYERS: z.coerce.number().int().min(0).default(30),
  /** Each refit validates on this last share of the observed period (fit before, score after); 0: no validation. @defaultValue 0.25 */
  CLV_HOLDOUT_SHARE: z.coerce.number().min(0).lt(1).default(0.25),
  /** The purchase-count model: `bgnbd`, `paretonbd`, or `auto` (each refit fits both and applies the lower holdout error). @defaultValue auto */
  CLV_MODEL: z.enum(MODEL_SETTINGS).default("auto"),
};
type EngineEnv = { [K in keyof typeof engineEnv]: z.infer<(typeof engineEnv)[K]> };

/** Validated engine settings from the environment; throws with every problem listed. */
export function engineSettings(env: EngineEnv): EngineSettings {
  const parsed = EngineSettings.safeParse({
    rules: {
      atRiskAfterDays: env.STAGE_AT_RISK_DAYS,
      churnAfterDays: env.STAGE_CHURN_DAYS,
      negativeSignalDays: env.STAGE_SIGNAL_DAYS,
      responseTargetMinutes: env.STAGE_RESPONSE_TARGET_MINUTES,
      pAliveThreshold: env.STAGE_P_ALIVE_THRESHOLD,
      detractorMaxScore: env.STAGE_DETRACTOR_MAX,
      lowCsatMaxScore: env.STAGE_LOW_CSAT_MAX,
      highCesMinScore: env.STAGE_HIGH_CES_MIN,
    },
    clv: { horizonDays: env.CLV_HORIZON_DAYS, margin: env.CLV_MARGIN, annualDiscountRate: env.CLV_DISCOUNT_RATE, lifespanYears: env.CLV_LIFESPAN_YEARS, maxLifespanYears: env.CLV_MAX_LIFESPAN_YEARS },
    playbooks: env.PLAYBOOKS,
    delivery: {
      consentRegime: env.CONSENT_REGIME,
      marketingCap: { max: env.MARKETING_CAP_MAX, windowDays: env.MARKETING_CAP_DAYS },
      quietHours: { start: env.QUIET_HOURS.slice(0, 5), end: env.QUIET_HOURS.slice(6) },
      defaultTimeZone: env.DEFAULT_TIMEZONE,
    },
  });
  if (!parsed.success) throw new Error(`invalid engine settings:\n${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/** The refit's own settings from the environment (the fit guard's minimum, the holdout share and the count model). */
export function refitSettings(env: Pick<EngineEnv, "CLV_MIN_REPEAT_BUYERS" | "CLV_HOLDOUT_SHARE" | "CLV_MODEL">): { minRepeatBuyers: number; holdoutShare: number; model: ModelSetting } {
  return { minRepeatBuyers: env.CLV_MIN_REPEAT_BUYERS, holdoutShare: env.CLV_HOLDOUT_SHARE, model: env.CLV_MODEL };
}
