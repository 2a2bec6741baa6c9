import { ATTR, recordFailure, SpanKind, startSpan, traceparentOf, type Span } from "@lifecycle/telemetry";

/** What the spans need of an accepted event (apply-events' AcceptedEvent, which imports this module). */
interface BatchEvent {
  event: { id: string; type: string; subject: string; traceparent?: string | undefined };
  topic: string;
  partition: number;
  offset: number;
}

/**
 * The spans of one applied batch. Each event that carries a `traceparent` gets a `process` span in
 * its producer's trace, and its effects (outbox rows) continue from that span. The transaction is
 * one span for the whole batch: a child of the first traced event's span, linked from the others',
 * so each trace reaches it (a span has one parent; the links are how a batch joins many traces).
 *
 * Untraced events cost a property check: a batch without a traceparent makes one span, and with
 * tracing off (no provider registered) that span is the API's no-op.
 */
export function traceBatch(accepted: readonly BatchEvent[]) {
  let traced: { event: BatchEvent; span: Span; traceparent: string | undefined }[] | undefined;
  for (const a of accepted) {
    if (a.event.traceparent === undefined) continue;
    const span = startSpan(`process ${a.topic}`, {
      kind: SpanKind.CONSUMER,
      parent: a.event.traceparent,
      attributes: {
        [ATTR.messagingSystem]: "kafka",
        [ATTR.messagingOperationType]: "process",
        [ATTR.messagingDestination]: a.topic,
        [ATTR.messagingPartition]: String(a.partition),
        [ATTR.kafkaOffset]: a.offset,
        [ATTR.messagingMessageId]: a.event.id,
        [ATTR.cloudEventId]: a.event.id,
        [ATTR.cloudEventType]: a.event.type,
      },
    });
    (traced ??= []).push({ event: a, span, traceparent: traceparentOf(span) });
  }

  const [first, ...rest] = traced ?? [];
  const transaction = startSpan("apply events", {
    parent: first?.traceparent,
    attributes: { [ATTR.dbSystem]: "postgresql", [ATTR.dbOperation]: "transaction", [ATTR.messagingBatchCount]: accepted.length },
    links: rest.map((t) => ({ context: t.span.spanContext() })),
  });

  // The transaction ends first: it lies inside the span that is its parent.
  const all = () => [transaction, ...(traced ?? []).map((t) => t.span)];
  return {
    /**
     * For the engine: an outbox message continues its causing event's span, or else the span of
     * its customer's last traced event in the batch. Undefined when nothing was traced.
     */
    traceOf: traced && byEventAndCustomer(traced),
    succeeded(outcome: { applied: number; duplicates: number }) {
      transaction.setAttributes({ "lifecycle.events.applied": outcome.applied, "lifecycle.events.duplicates": outcome.duplicates });
      for (const s of all()) s.end();
    },
    failed(err: unknown) {
      for (const s of all()) {
        recordFailure(s, err);
        s.end();
      }
    },
  };
}

function byEventAndCustomer(traced: readonly { event: BatchEvent; traceparent: string | undefined }[]) {
  const byEvent = new Map<string, string>();
  const byCustomer = new Map<string, string>();
  for (const { event, traceparent } of traced) {
    if (traceparent === undefined) continue;
    byEvent.set(event.event.id, traceparent);
    byCustomer.set(event.event.subject, traceparent);
  }
  return (customerId: string, causationId?: string) => (causationId === undefined ? undefined : byEvent.get(causationId)) ?? byCustomer.get(customerId);
}
