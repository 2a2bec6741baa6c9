import { z } from "zod";
import { Locale } from "@lifecycle/events";

/** Settings of follow-up templates (worker and API alike, so a preview shows what is sent). */
export const templatesEnv = {
  /**
   * A directory of your own template files, laid out like the defaults
   * (`<playbook>/<locale>.subject.liquid`, `.text.liquid`, `.html.liquid`); each file present
   * replaces the default one of that name, the rest stay the defaults. Unset: the defaults only.
   */
  TEMPLATES_DIR: z.string().min(1).optional(),
  /** The locale for customers without one (customer.registered `locale`), before falling back to `en`. @defaultValue en */
  DEFAULT_LOCALE: Locale.default("en"),
};
