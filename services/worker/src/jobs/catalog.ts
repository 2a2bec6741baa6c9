import type { Job } from "bullmq";
import type { JobName } from "@lifecycle/events";

/** One handler per job type of the catalog: a job type without a handler is a compile error. */
export type JobHandlers = { [K in JobName]: (job: Job, token?: string) => Promise<void> };
