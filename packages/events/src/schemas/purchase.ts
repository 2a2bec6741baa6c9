import { z } from "zod";
import { Amount, Currency, OrderId } from "./common.js";

export const PurchaseItem = z.strictObject({
  sku: z.string().min(1).max(128),
  quantity: z.number().int().min(1).max(1_000_000).default(1),
  price: Amount.optional(),
});

export const PurchaseCompletedData = z.strictObject({
  orderId: OrderId,
  amount: Amount,
  currency: Currency,
  items: z.array(PurchaseItem).max(1000).optional(),
  channel: z.string().min(1).max(64).optional(),
  referralCode: z.string().min(1).max(128).optional(),
});

export const PurchaseRefundedData = z.strictObject({
  orderId: OrderId,
  amount: Amount,
  currency: Currency,
});
