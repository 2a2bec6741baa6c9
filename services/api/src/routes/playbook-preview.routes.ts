import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { ChannelName, Locale, PlaybookName } from "@lifecycle/events";
import { loadFollowUpTemplates } from "@lifecycle/templates";
import type { ApiDeps } from "../deps.js";
import { HttpProblem } from "../http/problem.js";
import { KEYED_ERRORS, ProblemResponse } from "../http/schemas.js";
import { CustomerId } from "./customers.schemas.js";
import { findTemplateCustomer } from "./playbook-preview.query.js";

/** A marketing e-mail's real link is signed per send; a preview shows where it goes, not one that works. */
export const PREVIEW_UNSUBSCRIBE_URL = "https://unsubscribe.example.invalid/v1/unsubscribe?token=preview";

const PreviewParams = z.strictObject({ name: PlaybookName.describe("The playbook") });
const PreviewQuery = z.strictObject({
  customerId: CustomerId.describe("Whose data fills the templates: their name, stage, CLV, locale …"),
  locale: Locale.optional().describe("Render in this locale (BCP 47) instead of the customer's own; `de-AT` falls back to `de`, then `DEFAULT_LOCALE`, then `en`"),
  channel: ChannelName.optional().describe("As sent on this channel: marketing e-mail carries an unsubscribe link. @defaultValue the playbook's channel"),
  orderId: z.string().min(1).max(128).optional().describe("Example `context.orderId` (a csat-survey after an order)"),
  ticketId: z.string().min(1).max(128).optional().describe("Example `context.ticketId` (a csat-survey after a ticket, an escalation)"),
});
const Preview = z.object({
  playbook: PlaybookName,
  customerId: z.string(),
  channel: ChannelName,
  purpose: z.enum(["transactional", "marketing"]),
  locale: z.string().describe("The locale whose templates were used"),
  subject: z.string(),
  text: z.string(),
  html: z.string(),
});

/** `GET /v1/playbooks/:name/preview`: a follow-up as the worker would render it for a customer now. */
export const playbookPreviewRoutes: FastifyPluginAsyncZod<{ deps: ApiDeps }> = async (app, { deps }) => {
  // main.ts loads them at start-up (TEMPLATES_DIR); a test app gets the defaults.
  const templates = deps.templates ?? (await loadFollowUpTemplates());
  app.get(
    "/v1/playbooks/:name/preview",
    {
      config: { scope: "read" },
      schema: {
        tags: ["playbooks"],
        summary: "Preview a follow-up for a customer: subject, plain text and HTML",
        description:
          "Renders the playbook's templates (TEMPLATES_DIR, else the defaults) with the customer's data as it is now, in their locale (or `locale`). Marketing e-mail shows a placeholder unsubscribe link; the real one is signed per send. Nothing is sent or recorded.",
        security: [{ apiKey: [] }],
        params: PreviewParams,
        querystring: PreviewQuery,
        response: {
          200: Preview,
          ...KEYED_ERRORS,
          400: ProblemResponse.describe("Invalid parameters, an unknown playbook, or a locale without templates"),
          404: ProblemResponse.describe("No such customer"),
          422: ProblemResponse.describe("A template failed to render: the detail names the file"),
        },
      },
    },
    async (request) => {
      const playbook = request.params.name;
      const { customerId, locale, orderId, ticketId } = request.query;
      if (locale !== undefined && !templates.knowsLocale(locale)) throw new HttpProblem(400, `no templates in locale ${locale} or a parent of it`);
      const customer = await findTemplateCustomer(deps.pool, customerId);
      if (!customer) throw new HttpProblem(404, `no customer with id ${JSON.stringify(customerId)}`);
      const settings = deps.settings.playbooks[playbook];
      const channel = request.query.channel ?? settings.channel;
      const context = { ...(orderId ? { orderId } : {}), ...(ticketId ? { ticketId } : {}) };
      const unsubscribeUrl = settings.purpose === "marketing" && channel === "email" ? PREVIEW_UNSUBSCRIBE_URL : undefined;
      const result = await templates.render(playbook, locale ?? customer.locale, { customer, playbook, trigger: "preview", context, unsubscribeUrl });
      if (!result.ok) throw new HttpProblem(422, `template ${result.error.file} failed: ${result.error.reason}`);
      const { subject, text, html } = result.value;
      return { playbook, customerId, channel, purpose: settings.purpose, locale: result.value.locale, subject, text, html };
    },
  );
};
