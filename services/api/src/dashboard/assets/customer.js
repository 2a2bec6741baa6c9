// One customer: stage, value, surveys and health (GET /v1/customers/:id) and its timeline of
// stage changes and events, newest first (GET /v1/customers/:id/timeline, paged by `before`).
/* global document, window */
import { ApiError, api, fact, fill, fmtDate, fmtDateTime, fmtInt, fmtMoney, fmtNum, h, wireMore, stageBadge, start } from "./dashboard.js";

const PAGE_SIZE = 50;
const PREFIX = "/dashboard/customers/";
const customerId = () => decodeURIComponent(window.location.pathname.slice(PREFIX.length));

const score = (label, s) => fact(label, s ? String(s.score) : "—", s ? `answered ${fmtDate(s.at)}` : "never answered");

function facts(c) {
  const parts = Object.entries(c.health.components).map(([name, p]) => `${name} ${fmtNum(p.value, 2)} × ${p.weight}`).join(", ");
  return [
    fact("stage", stageBadge(c.stage), `${c.stageReason ?? ""} since ${fmtDate(c.stageSince)}`),
    fact("historical CLV", fmtMoney(c.clv.historical), `revenue ${fmtMoney(c.revenue)}, refunded ${fmtMoney(c.refunded)}`),
    fact("predicted CLV", fmtMoney(c.clv.predicted), c.clv.expectedPurchases != null ? `${fmtNum(c.clv.expectedPurchases, 1)} purchases expected` : "no prediction yet"),
    fact("P(alive)", fmtNum(c.clv.pAlive, 2)),
    fact("purchases", fmtInt(c.purchaseCount), c.firstPurchaseAt ? `${fmtDate(c.firstPurchaseAt)} → ${fmtDate(c.lastPurchaseAt)}` : "none yet"),
    fact("health", h("span", { title: parts }, fmtInt(c.health.score)), parts),
    fact("open tickets", fmtInt(c.openTickets)),
    fact("acquisition", c.acquisitionChannel ?? "—", c.registeredAt ? `registered ${fmtDate(c.registeredAt)}` : "not registered"),
    score("latest NPS", c.latest.nps),
    score("latest CSAT", c.latest.csat),
    score("latest CES", c.latest.ces),
  ];
}

const summary = (data) =>
  Object.entries(data)
    .map(([k, v]) => `${k}: ${v}`)
    .join(" · ");

function item(t) {
  if (t.kind === "stage-change")
    return h("li", { class: "transition" }, h("time", {}, fmtDateTime(t.at)), t.from ? stageBadge(t.from) : h("span", { class: "muted" }, "(first stage)"), " → ", stageBadge(t.to), h("span", { class: "muted" }, ` ${t.reason}`));
  return h("li", { class: "event" }, h("time", {}, fmtDateTime(t.time)), h("strong", {}, t.type), h("span", { class: "muted" }, ` ${summary(t.data)}`));
}

start(async () => {
  const id = customerId();
  fill("customer-id", id);
  document.title = `Customer ${id} · Customer lifecycle ops`;
  const path = `/v1/customers/${encodeURIComponent(id)}`;
  let customer;
  try {
    customer = await api(path);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return void fill("facts", h("p", {}, `No customer with id ${id}.`));
    throw err;
  }
  fill("customer-stage", stageBadge(customer.stage));
  fill("facts", facts(customer));

  const list = h("ol", { class: "timeline", id: "timeline-list" });
  const more = h("button", { class: "primary", type: "button", hidden: true }, "Older");
  const load = async (before) => {
    const page = await api(`${path}/timeline`, { limit: PAGE_SIZE, before });
    list.append(...page.items.map(item));
    wireMore(more, page.nextCursor, load);
  };
  await load(undefined);
  fill("timeline", list.children.length ? list : h("p", { class: "muted" }, "Nothing recorded yet."), h("p", {}, more));
});
