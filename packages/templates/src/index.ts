export { loadFollowUpTemplates, type FollowUpTemplates, type LoadTemplatesOptions, type RenderedMessage, type RenderFailure } from "./follow-up-templates.js";
export { DEFAULT_TEMPLATES_DIR, TemplateError, TEMPLATE_PARTS, type TemplatePart } from "./template-files.js";
export { FALLBACK_LOCALE, localeChain } from "./locale-chain.js";
export { templatesEnv } from "./templates-env.js";
export { moneyText, type TemplateCustomer, type TemplateVariables } from "./template-variables.js";
