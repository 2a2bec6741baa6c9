// Customers: open one by id, or browse them by stage (GET /v1/customers, cursor paging).
/* global document, window, URLSearchParams */
import { STAGES, api, customerLink, fill, fmtDate, fmtInt, fmtMoney, h, wireMore, stageBadge, start } from "./dashboard.js";

const PAGE_SIZE = 50;
const HEAD = ["customer", "stage", "since", "purchases", "historical CLV", "predicted CLV", "health", "last purchase"];
const NUMERIC = new Set(["purchases", "historical CLV", "predicted CLV", "health"]);

const row = (c) =>
  h(
    "tr",
    {},
    h("td", {}, customerLink(c.id)),
    h("td", {}, stageBadge(c.stage)),
    h("td", {}, fmtDate(c.stageSince)),
    h("td", { class: "num" }, fmtInt(c.purchaseCount)),
    h("td", { class: "num" }, fmtMoney(c.clv.historical)),
    h("td", { class: "num" }, fmtMoney(c.clv.predicted)),
    h("td", { class: "num" }, fmtInt(c.health.score)),
    h("td", {}, fmtDate(c.lastPurchaseAt)),
  );

document.getElementById("lookup").addEventListener("submit", (event) => {
  event.preventDefault();
  const id = document.getElementById("lookup-id").value.trim();
  if (id) window.location.href = `/dashboard/customers/${encodeURIComponent(id)}`;
});

start(async () => {
  const params = new URLSearchParams(window.location.search);
  const stage = STAGES.includes(params.get("stage")) ? params.get("stage") : "";
  const select = document.getElementById("stage-filter");
  if (select.options.length === 1) select.append(...STAGES.map((s) => h("option", { value: s }, s)));
  select.value = stage;
  select.onchange = () => {
    if (select.value) params.set("stage", select.value);
    else params.delete("stage");
    window.location.search = params.toString();
  };

  const tbody = h("tbody", {});
  const more = h("button", { class: "primary", type: "button", hidden: true }, "Load more");
  const summary = h("p", { class: "hint" });
  let shown = 0;
  const load = async (cursor) => {
    const page = await api("/v1/customers", { stage: stage || undefined, limit: PAGE_SIZE, cursor });
    tbody.append(...page.items.map(row));
    shown += page.items.length;
    summary.textContent = shown ? `${fmtInt(shown)} customers${stage ? ` in stage ${stage}` : ""}, in sync order (least recently updated first)` : "No customers.";
    wireMore(more, page.nextCursor, load);
  };
  await load(undefined);
  fill("customers", summary, h("table", { id: "customers-table" }, h("thead", {}, h("tr", {}, HEAD.map((t) => h("th", { class: NUMERIC.has(t) ? "num" : undefined }, t)))), tbody), h("p", {}, more));
});
