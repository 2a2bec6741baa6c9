/**
 * What the stage rules look at: a customer's facts, already merged from its events in an
 * order-independent way (packages/db). Times are event times.
 */
export interface StageFacts {
  firstSeenAt: Date;
  registeredAt?: Date | undefined;
  purchaseCount: number;
  firstPurchaseAt?: Date | undefined;
  lastPurchaseAt?: Date | undefined;
  cancelledAt?: Date | undefined;
  /** Latest survey answers that are negative under the rules' thresholds. */
  latestDetractorAt?: Date | undefined;
  latestLowCsatAt?: Date | undefined;
  latestHighCesAt?: Date | undefined;
  latestTicketReopenedAt?: Date | undefined;
  /** Open times of tickets still open with no response yet. */
  unansweredTicketsOpenedAt: readonly Date[];
  /**
   * When P(alive) falls (fell) below the threshold if nothing else is bought: from the fitted
   * BG/NBD model. Undefined when no model is fitted or the model cannot judge (one-time buyers).
   */
  pAliveBelowThresholdAt?: Date | undefined;
}
