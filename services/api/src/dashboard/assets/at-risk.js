// At-risk customers, largest value at stake first, with the reason; pages through the cursor.
/* global document */
import { api, customerLink, fill, fmtDate, fmtInt, fmtMoney, fmtNum, h, wireMore, start } from "./dashboard.js";

const PAGE_SIZE = 50;

/** The machine-readable reasons of CONTRACT.md section 2, in words. */
const REASONS = {
  "inactive-90d": "no purchase for 90 days",
  "p-alive-below-0.5": "P(alive) fell below 0.5",
  "detractor-score": "NPS detractor",
  "low-csat": "low CSAT",
  "high-effort": "high effort (CES)",
  "ticket-unanswered": "ticket unanswered past target",
  "ticket-reopened": "ticket reopened",
};
const reasonCell = (reason) => h("td", { title: reason ?? "" }, reason ? (REASONS[reason] ?? reason) : "—");

const row = (c) =>
  h(
    "tr",
    {},
    h("td", {}, customerLink(c.id)),
    h("td", { class: "num" }, h("strong", {}, fmtMoney(c.valueAtStake))),
    h("td", { class: "muted" }, c.basis),
    reasonCell(c.reason),
    h("td", {}, fmtDate(c.stageSince)),
    h("td", { class: "num" }, fmtNum(c.pAlive, 2)),
    h("td", { class: "num" }, fmtMoney(c.predictedClv)),
    h("td", { class: "num" }, fmtMoney(c.historicalClv)),
    h("td", { class: "num" }, fmtInt(c.healthScore)),
    h("td", {}, fmtDate(c.lastPurchaseAt)),
  );

const HEAD = ["customer", "value at stake", "basis", "reason", "at risk since", "P(alive)", "predicted CLV", "historical CLV", "health", "last purchase"];
const NUMERIC = new Set(["value at stake", "P(alive)", "predicted CLV", "historical CLV", "health"]);

start(async () => {
  const tbody = h("tbody", {});
  const more = h("button", { class: "primary", type: "button", hidden: true }, "Load more");
  const summary = h("p", { class: "hint" });
  let shown = 0;
  let stake = 0;
  const load = async (cursor) => {
    const page = await api("/v1/alerts/at-risk", { limit: PAGE_SIZE, cursor });
    tbody.append(...page.items.map(row));
    shown += page.items.length;
    stake += page.items.reduce((sum, c) => sum + Number(c.valueAtStake), 0);
    summary.textContent = shown ? `${fmtInt(shown)} customers shown, ${fmtMoney(stake.toFixed(2))} at stake` : "No customer is at risk.";
    wireMore(more, page.nextCursor, load);
  };
  await load(undefined);
  fill(
    "at-risk",
    summary,
    h("table", { id: "at-risk-table" }, h("thead", {}, h("tr", {}, HEAD.map((t) => h("th", { class: NUMERIC.has(t) ? "num" : undefined }, t)))), tbody),
    h("p", {}, more),
  );
  document.title = `At risk (${shown}${more.hidden ? "" : "+"}) · Customer lifecycle ops`;
});
