import type { FastifyPluginAsync } from "fastify";
import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { FastifyAdapter } from "@bull-board/fastify";
import { authorize } from "../auth/authenticate.js";
import type { ApiDeps } from "../deps.js";

export const QUEUE_BOARD_PATH = "/admin/queues";

/**
 * Bull Board (the maintained BullMQ UI: jobs by state, failed jobs with their errors, retry) at
 * /admin/queues, for admin keys only. Browsers cannot add a bearer header to the board's own
 * requests, so it asks for HTTP Basic credentials: any user name, the API key as the password.
 */
export const queueBoardRoutes: FastifyPluginAsync<{ deps: ApiDeps }> = async (app, { deps }) => {
  app.addHook("onRequest", async (request, reply) => {
    await authorize(request, reply, deps.keys, "admin", 'Basic realm="customer-lifecycle admin (password: an admin API key)", charset="UTF-8"');
  });
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(QUEUE_BOARD_PATH);
  createBullBoard({ queues: deps.queues.map((q) => new BullMQAdapter(q)), serverAdapter, options: { uiConfig: { boardTitle: "Lifecycle follow-ups" } } });
  await app.register(serverAdapter.registerPlugin(), { prefix: QUEUE_BOARD_PATH });
};
