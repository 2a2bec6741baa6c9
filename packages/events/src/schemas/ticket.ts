import { z } from "zod";
import { TicketId } from "./common.js";

export const TicketOpenedData = z.strictObject({
  ticketId: TicketId,
  channel: z.enum(["email", "chat", "phone", "social", "web"]).optional(),
  priority: z.enum(["low", "normal", "high", "urgent"]).optional(),
});

export const TicketRespondedData = z.strictObject({
  ticketId: TicketId,
  by: z.enum(["agent", "bot"]).optional(),
});

export const TicketResolvedData = z.strictObject({
  ticketId: TicketId,
  /** Interactions it took; 1 is a first-contact resolution. */
  contacts: z.number().int().min(1).max(10_000).optional(),
});

export const TicketReopenedData = z.strictObject({
  ticketId: TicketId,
});
