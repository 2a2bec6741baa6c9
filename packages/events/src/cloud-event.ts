import { z } from "zod";
import { eventTimeProblem } from "./event-time.js";
import { Traceparent } from "./trace-context.js";

/** RFC 3339 date-time with an explicit offset (`Z` or `±hh:mm`), as CONTRACT.md section 1 requires. */
export const RFC3339_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/**
 * The CloudEvents 1.0 envelope in structured JSON mode. `data` is validated per event type
 * by the type's own schema; the envelope only guarantees the attributes every event shares.
 */
export const CloudEventEnvelope = z.object({
  specversion: z.literal("1.0"),
  /** Unique per event: the idempotency key (a re-sent event changes nothing). */
  id: z.string().min(1).max(128),
  /** The emitting system, e.g. `checkout-service`. */
  source: z.string().min(1).max(256),
  type: z.string().min(1).max(128),
  /** The customer id. */
  subject: z.string().min(1).max(128),
  /** When it happened (event time, not arrival time). */
  time: z
    .string()
    .regex(RFC3339_WITH_OFFSET, "must be an RFC 3339 date-time with an offset")
    .superRefine((t, ctx) => {
      const problem = eventTimeProblem(t);
      if (problem && RFC3339_WITH_OFFSET.test(t)) ctx.addIssue({ code: "custom", message: problem });
    }),
  datacontenttype: z.literal("application/json").optional(),
  /** Distributed tracing extension: where a producer's trace continues. */
  traceparent: Traceparent,
  data: z.unknown(),
});
export type CloudEventEnvelope = z.infer<typeof CloudEventEnvelope>;
