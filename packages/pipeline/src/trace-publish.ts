import { followUpQueue, type FollowUpJob, type StageTopicEvent } from "@lifecycle/events";
import { ATTR, recordFailure, SpanKind, startSpan, traceparentOf, type Attributes, type Span } from "@lifecycle/telemetry";

/**
 * The relay's spans for one publish: a `send` span per outbox message that carries a
 * `traceparent` (written by the transaction that caused it), a child of that span. The message
 * goes out with the send span's own `traceparent`, so the worker (or a stage-change consumer)
 * continues from it. Messages without one (the sweep's, or an untraced event's) make no span.
 */
export function tracePublish() {
  const spans: Span[] = [];
  const send = (parent: string, name: string, attributes: Attributes) => {
    const span = startSpan(name, { kind: SpanKind.PRODUCER, parent, attributes: { [ATTR.messagingOperationType]: "send", ...attributes } });
    spans.push(span);
    return traceparentOf(span);
  };
  return {
    followUp(job: FollowUpJob, jobId: string): FollowUpJob {
      if (job.traceparent === undefined) return job;
      const queue = followUpQueue(job.channel);
      const traceparent = send(job.traceparent, `send ${queue}`, { [ATTR.messagingSystem]: "bullmq", [ATTR.messagingDestination]: queue, [ATTR.messagingMessageId]: jobId });
      return { ...job, traceparent };
    },
    stageChange<E extends StageTopicEvent>(event: E): E {
      if (event.traceparent === undefined) return event;
      const traceparent = send(event.traceparent, `send ${event.type.slice("lifecycle.".length).replace(".", "-")}`, { [ATTR.messagingSystem]: "kafka", [ATTR.messagingMessageId]: event.id, [ATTR.cloudEventId]: event.id });
      return { ...event, traceparent };
    },
    /** Ends the spans, failed with `err` when the publish failed. */
    end(err?: unknown) {
      for (const span of spans) {
        if (err !== undefined) recordFailure(span, err);
        span.end();
      }
    },
  };
}
