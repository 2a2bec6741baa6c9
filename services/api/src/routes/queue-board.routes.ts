import type { FastifyPluginAsync } from "fastify";
import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { FastifyAdapter } from "@bull-board/fastify";
import { createAuditLogRepo } from "@lifecycle/db";
import { authorize } from "../auth/authenticate.js";
import type { ApiDeps } from "../deps.js";

export const QUEUE_BOARD_PATH = "/admin/queues";

/** The queue a board API path acts on (`/api/queues/<queue>/…`), or every queue (`/api/queues/pause`). */
function queueOf(path: string): string {
  const [queue, action] = path.split("/").slice(3);
  return queue === undefined || ((queue === "pause" || queue === "resume") && action === undefined) ? "all queues" : decodeURIComponent(queue);
}

/**
 * Bull Board (the maintained BullMQ UI: jobs by state, failed jobs with their errors, retry) at
 * /admin/queues, for admin keys only. Browsers cannot add a bearer header to the board's own
 * requests, so it asks for HTTP Basic credentials: any user name, the API key as the password.
 */
export const queueBoardRoutes: FastifyPluginAsync<{ deps: ApiDeps }> = async (app, { deps }) => {
  app.addHook("onRequest", async (request, reply) => {
    await authorize(request, reply, deps.keys, "admin", 'Basic realm="customer-lifecycle admin (password: an admin API key)", charset="UTF-8"');
  });
  // What an admin changed on the board (retry, promote, remove, clean, pause …): its API calls that
  // are not reads, once they succeeded. The path names the queue, the job and the action.
  const audit = createAuditLogRepo(deps.pool);
  app.addHook("onResponse", async (request, reply) => {
    if (request.method === "GET" || request.method === "HEAD" || reply.statusCode >= 400 || !request.url.startsWith(`${QUEUE_BOARD_PATH}/api/`)) return;
    const path = request.url.slice(QUEUE_BOARD_PATH.length).split("?")[0] ?? "";
    await audit
      .record({ actor: `key:${request.apiKey?.id ?? "?"}`, action: "queue.action", subject: queueOf(path), details: { method: request.method, path } })
      .catch((err: unknown) => request.log.error({ err }, "could not write the audit log"));
  });
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(QUEUE_BOARD_PATH);
  createBullBoard({ queues: deps.queues.map((q) => new BullMQAdapter(q)), serverAdapter, options: { uiConfig: { boardTitle: "Lifecycle follow-ups" } } });
  await app.register(serverAdapter.registerPlugin(), { prefix: QUEUE_BOARD_PATH });
};
