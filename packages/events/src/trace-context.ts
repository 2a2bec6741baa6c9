import { z } from "zod";

/**
 * The shape of a W3C Trace Context `traceparent`: version, trace id, parent (span) id and flags,
 * lowercase hex (https://www.w3.org/TR/trace-context/#traceparent-header). Whether the ids are
 * valid (not all zeros, version not `ff`) is checked where a trace is continued (packages/telemetry).
 */
export const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/**
 * A `traceparent` carried with a message (the CloudEvents distributed-tracing extension, a job's
 * data). Optional, and a malformed one is dropped rather than refused: tracing data never costs an
 * event (W3C: a receiver that cannot parse it starts a new trace).
 */
export const Traceparent = z
  .string()
  .regex(TRACEPARENT)
  .optional()
  .catch(undefined)
  .describe("W3C Trace Context traceparent (CloudEvents distributed-tracing extension): the span that sent this; optional, dropped when malformed");
