import { z } from "zod";
import { OrderId, TicketId } from "./common.js";

/** Score ranges by survey kind (CONTRACT.md section 1). */
export const SURVEY_SCALES = {
  /** Net Promoter Score: 0–10. */
  nps: { min: 0, max: 10 },
  /** Customer satisfaction: 1–5. */
  csat: { min: 1, max: 5 },
  /** Customer effort: 1 (very easy) to 7 (very difficult). */
  ces: { min: 1, max: 7 },
} as const;

const optional = {
  surveyId: z.string().min(1).max(128).optional(),
  comment: z.string().max(10_000).optional(),
  orderId: OrderId.optional(),
  ticketId: TicketId.optional(),
};

const scored = <K extends keyof typeof SURVEY_SCALES>(kind: K) =>
  z.strictObject({
    kind: z.literal(kind),
    score: z.number().int().min(SURVEY_SCALES[kind].min).max(SURVEY_SCALES[kind].max),
    ...optional,
  });

export const SurveyRespondedData = z.discriminatedUnion("kind", [scored("nps"), scored("csat"), scored("ces")]);
